#include "cluster/redis/redis_presence.hpp"

#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include "cluster/redis/redis_connection.hpp"
#include "cluster/redis/redis_envelope.hpp"
#include "obs/log.hpp"

namespace parley::cluster {

namespace {

// KEYS: users, this node's hash. ARGV: user, limit.
// The user's total before, or -1 when at the limit (nothing counted).
constexpr const char* kConnectLua = R"lua(
local total = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if total >= tonumber(ARGV[2]) then return -1 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return total
)lua";

// KEYS: users, this node's hash. ARGV: user.
// The user's total after, or -1 when this node held no socket of theirs
// in Redis (it was reaped; the reaper reported them and a resync follows).
constexpr const char* kDisconnectLua = R"lua(
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if mine <= 0 then return -1 end
if mine == 1 then redis.call('HDEL', KEYS[2], ARGV[1]) else redis.call('HINCRBY', KEYS[2], ARGV[1], -1) end
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if total <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
return total
)lua";

// KEYS: nodes, users. ARGV: node id, TTL in ms, prefix of node hashes.
// {1 if this node was still registered, users who went offline}.
constexpr const char* kHeartbeatLua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local offline = {}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 16)
for _, node in ipairs(dead) do
  local counts = redis.call('HGETALL', ARGV[3] .. node)
  for i = 1, #counts, 2 do
    local total = redis.call('HINCRBY', KEYS[2], counts[i], -tonumber(counts[i + 1]))
    if total <= 0 then
      redis.call('HDEL', KEYS[2], counts[i])
      offline[#offline + 1] = counts[i]
    end
  end
  redis.call('DEL', ARGV[3] .. node)
  redis.call('ZREM', KEYS[1], node)
end
if known then return {1, offline} end
return {0, offline}
)lua";

// KEYS: nodes, users, this node's hash. ARGV: node id, TTL in ms, then
// user, count pairs: this node's sockets. Replaces what Redis counted for
// this node; {users who came online, users who went offline}.
constexpr const char* kResyncLua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local delta = {}
local old = redis.call('HGETALL', KEYS[3])
for i = 1, #old, 2 do delta[old[i]] = -tonumber(old[i + 1]) end
redis.call('DEL', KEYS[3])
for i = 3, #ARGV, 2 do
  local n = tonumber(ARGV[i + 1])
  redis.call('HSET', KEYS[3], ARGV[i], n)
  delta[ARGV[i]] = (delta[ARGV[i]] or 0) + n
end
local came, went = {}, {}
for user, d in pairs(delta) do
  if d ~= 0 then
    local before = tonumber(redis.call('HGET', KEYS[2], user) or '0')
    local after = before + d
    if after <= 0 then redis.call('HDEL', KEYS[2], user) else redis.call('HSET', KEYS[2], user, after) end
    if before <= 0 and after > 0 then came[#came + 1] = user end
    if before > 0 and after <= 0 then went[#went + 1] = user end
  end
end
return {came, went}
)lua";

std::vector<std::string> strings_of(const redisReply& array) {
  std::vector<std::string> out;
  if (kind_of(array) != RedisReplyKind::array) return out;
  out.reserve(size_of(array));
  for (std::size_t i = 0; i < size_of(array); ++i) {
    const redisReply& e = element(array, i);
    if (kind_of(e) == RedisReplyKind::string) out.emplace_back(text_of(e));
  }
  return out;
}

}  // namespace

RedisPresence::RedisPresence(RedisCommands& commands, const std::string& prefix,
                             std::chrono::milliseconds node_ttl)
    : commands_(commands),
      node_id_(fmt::format("{:016x}", random_node_id())),
      ttl_(node_ttl),
      nodes_key_(prefix + "presence:nodes"),
      users_key_(prefix + "presence:users"),
      node_key_prefix_(prefix + "presence:node:"),
      node_key_(node_key_prefix_ + node_id_),
      connect_script_(commands.add_script(kConnectLua)),
      disconnect_script_(commands.add_script(kDisconnectLua)),
      heartbeat_script_(commands.add_script(kHeartbeatLua)),
      resync_script_(commands.add_script(kResyncLua)) {
  commands.on_link_up([this] { resynchronise(); });
  commands.on_tick([this] { heartbeat(); });
}

std::size_t RedisPresence::local_count(const std::string& user) const {
  const auto it = local_.find(user);
  return it == local_.end() ? 0 : it->second;
}

RedisPresence::Admission RedisPresence::admit_locally(const std::string& user, std::size_t limit) {
  auto& n = local_[user];
  if (n >= limit) {
    if (n == 0) local_.erase(user);
    return {};
  }
  return {true, ++n == 1};
}

void RedisPresence::connect(const std::string& user, std::size_t limit,
                            std::function<void(Admission)> done) {
  std::unique_lock lock(mutex_);
  auto on_reply = [this, user, limit, done](const redisReply* reply) {
    Admission a;
    {
      std::lock_guard counting(mutex_);
      if (reply == nullptr || kind_of(*reply) != RedisReplyKind::integer) {
        // Unknown whether Redis counted it: decided here, and the next
        // link's resync makes Redis agree.
        a = admit_locally(user, limit);
      } else if (reply->integer >= 0) {
        ++local_[user];
        a = Admission{true, reply->integer == 0};
      }
    }
    done(a);
  };
  if (commands_.eval(connect_script_, {users_key_, node_key_}, {user, std::to_string(limit)},
                     std::move(on_reply))) {
    return;
  }
  const Admission a = admit_locally(user, limit);
  lock.unlock();
  done(a);
}

void RedisPresence::disconnect(const std::string& user, std::function<void(bool)> done) {
  std::unique_lock lock(mutex_);
  auto it = local_.find(user);
  if (it == local_.end()) {
    lock.unlock();
    return done(false);
  }
  const bool last_here = --it->second == 0;
  if (last_here) local_.erase(it);
  auto on_reply = [this, user, done](const redisReply* reply) {
    if (reply == nullptr || kind_of(*reply) != RedisReplyKind::integer) {
      bool gone = false;
      {
        std::lock_guard counting(mutex_);
        gone = local_count(user) == 0;
      }
      return done(gone);
    }
    done(reply->integer == 0);
  };
  if (commands_.eval(disconnect_script_, {users_key_, node_key_}, {user}, std::move(on_reply))) {
    return;
  }
  lock.unlock();
  done(last_here);
}

void RedisPresence::online(std::vector<std::string> users,
                           std::function<void(std::vector<bool>)> done) {
  if (users.empty()) return done({});
  auto answer_locally = [this](const std::vector<std::string>& asked) {
    std::lock_guard lock(mutex_);
    std::vector<bool> flags;
    flags.reserve(asked.size());
    for (const auto& u : asked) flags.push_back(local_count(u) > 0);
    return flags;
  };
  std::vector<std::string> args;
  args.reserve(users.size() + 2);
  args.emplace_back("HMGET");
  args.push_back(users_key_);
  for (const auto& u : users) args.push_back(u);
  auto asked = std::make_shared<std::vector<std::string>>(std::move(users));
  const bool sent =
      commands_.send(std::move(args), [asked, done, answer_locally](const redisReply* reply) {
        if (reply == nullptr || kind_of(*reply) != RedisReplyKind::array ||
            size_of(*reply) != asked->size()) {
          return done(answer_locally(*asked));
        }
        std::vector<bool> flags;
        flags.reserve(asked->size());
        for (std::size_t i = 0; i < asked->size(); ++i) {
          flags.push_back(kind_of(element(*reply, i)) == RedisReplyKind::string);
        }
        done(std::move(flags));
      });
  if (!sent) done(answer_locally(*asked));
}

void RedisPresence::online_users(std::function<void(std::vector<std::string>)> done) {
  auto answer_locally = [this] {
    std::lock_guard lock(mutex_);
    std::vector<std::string> users;
    users.reserve(local_.size());
    for (const auto& [user, n] : local_) users.push_back(user);
    return users;
  };
  const bool sent =
      commands_.send({"HKEYS", users_key_}, [done, answer_locally](const redisReply* reply) {
        if (reply == nullptr) return done(answer_locally());
        done(strings_of(*reply));
      });
  if (!sent) done(answer_locally());
}

void RedisPresence::resynchronise() {
  std::vector<std::string> args{node_id_, std::to_string(ttl_.count())};
  {
    std::lock_guard lock(mutex_);
    args.reserve(2 + 2 * local_.size());
    for (const auto& [user, n] : local_) {
      args.push_back(user);
      args.push_back(std::to_string(n));
    }
    // Still under mutex_: every change after this snapshot is queued after it.
    commands_.eval_first(
        resync_script_, {nodes_key_, users_key_, node_key_}, std::move(args),
        [this](const redisReply* reply) {
          if (reply == nullptr || size_of(*reply) != 2) return;
          Changes c{strings_of(element(*reply, 0)), strings_of(element(*reply, 1))};
          if (changes_ && (!c.came_online.empty() || !c.went_offline.empty())) {
            changes_(std::move(c));
          }
        });
  }
}

void RedisPresence::heartbeat() {
  commands_.eval(heartbeat_script_, {nodes_key_, users_key_},
                 {node_id_, std::to_string(ttl_.count()), node_key_prefix_},
                 [this](const redisReply* reply) {
                   if (reply == nullptr || size_of(*reply) != 2) return;
                   auto offline = strings_of(element(*reply, 1));
                   if (changes_ && !offline.empty()) changes_(Changes{{}, std::move(offline)});
                   if (element(*reply, 0).integer == 0) {
                     obs::log(obs::Level::warn,
                              "presence: this node was silent longer than its TTL; "
                              "counting its sockets again");
                     commands_.reset();
                   }
                 });
}

}  // namespace parley::cluster
