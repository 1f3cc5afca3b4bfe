// parley::store write ops: one write inside a backend's batch transaction
// (group commit), shared by the SQLite and PostgreSQL stores, each with its
// own connection type.
#pragma once

#include <utility>

#include "core/error.hpp"

namespace parley::store {

// apply() may run more than once (when another write of its batch fails,
// or the batch deadlocked with another node's, the batch is rolled back and
// run again, or each write alone), so it must derive everything from its
// inputs. finish() runs exactly once, after the commit
// (failure == nullptr) or after the rollback that dropped this write.
template <typename Connection>
class WriteOp {
 public:
  virtual ~WriteOp() = default;
  virtual core::Result<void> apply(Connection& db) = 0;
  virtual void finish(const core::Error* failure) = 0;
};

// A WriteOp from a state and two lambdas: apply(db, state) inside the batch
// transaction, done(failure, state) once the batch's fate is known.
template <typename Connection, typename State, typename Apply, typename Done>
class LambdaWrite final : public WriteOp<Connection> {
 public:
  LambdaWrite(State state, Apply apply, Done done)
      : state_(std::move(state)), apply_(std::move(apply)), done_(std::move(done)) {}
  core::Result<void> apply(Connection& db) override { return apply_(db, state_); }
  void finish(const core::Error* failure) override { done_(failure, state_); }

 private:
  State state_;
  Apply apply_;
  Done done_;
};

}  // namespace parley::store
