// Memory for the operation state of a connection's one outstanding read
// or one outstanding write, so that Asio allocates nothing per operation.
// Asio 1.74 recycles only one freed operation block per thread, so a loop
// that completes a read, starts a write and starts the next read mallocs
// on nearly every turn without this.
//
// A handler wrapped with bind_memory() names an allocator (Asio's
// associated_allocator picks up the nested allocator_type), which hands
// out the fixed block when it is free and large enough, and falls back to
// the heap otherwise (never wrong, only slower). Threads: one, the
// connection's.
#pragma once

#include <array>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace parley::bench {

class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= storage_.size()) {
      in_use_ = true;
      return storage_.data();
    }
    return ::operator new(size);
  }
  void deallocate(void* pointer) {
    if (pointer == storage_.data()) {
      in_use_ = false;
    } else {
      ::operator delete(pointer);
    }
  }

 private:
  // Enough for a read or write operation with its handler (about 200 bytes
  // for a composed write on Asio 1.74).
  alignas(std::max_align_t) std::array<std::byte, 512> storage_{};
  bool in_use_ = false;
};

template <class T>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory& memory) : memory_(&memory) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* pointer, std::size_t /*n*/) { memory_->deallocate(pointer); }

  template <class U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }

 private:
  template <class>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

template <class Handler>
class MemoryBoundHandler {
 public:
  using allocator_type = HandlerAllocator<Handler>;

  MemoryBoundHandler(HandlerMemory& memory, Handler handler)
      : memory_(memory), handler_(std::move(handler)) {}

  allocator_type get_allocator() const noexcept { return allocator_type(memory_); }

  template <class... Args>
  void operator()(Args&&... args) {
    handler_(std::forward<Args>(args)...);
  }

 private:
  HandlerMemory& memory_;
  Handler handler_;
};

template <class Handler>
MemoryBoundHandler<std::decay_t<Handler>> bind_memory(HandlerMemory& memory, Handler&& handler) {
  return MemoryBoundHandler<std::decay_t<Handler>>(memory, std::forward<Handler>(handler));
}

}  // namespace parley::bench
