#include "engineio/session_fsm.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace parley::engineio {
namespace {

using namespace std::chrono_literals;
using Kind = Action::Kind;

SessionOptions small_options() {
  SessionOptions o;
  o.ping_interval = 25000ms;
  o.ping_timeout = 20000ms;
  o.max_payload = 1000;
  o.max_queue_packets = 8;
  o.max_queue_bytes = 1024;
  return o;
}

std::vector<Kind> kinds(const Actions& actions) {
  std::vector<Kind> out;
  for (const Action& a : actions) out.push_back(a.kind);
  return out;
}

bool has(const Actions& actions, Kind kind) {
  for (const Action& a : actions) {
    if (a.kind == kind) return true;
  }
  return false;
}

const Action& only(const Actions& actions, Kind kind) {
  const Action* found = nullptr;
  for (const Action& a : actions) {
    if (a.kind != kind) continue;
    EXPECT_EQ(found, nullptr) << "more than one action of this kind";
    found = &a;
  }
  EXPECT_NE(found, nullptr) << "no action of this kind";
  static const Action kNone{};
  return found ? *found : kNone;
}

// The one WebSocket message of a ws_write, as it goes on the wire.
std::string one_frame(const Action& a) {
  EXPECT_EQ(a.messages.size(), 1U);
  if (a.messages.empty()) return {};
  const WsMessage& m = a.messages.front();
  return m.binary ? m.data : std::string(1, m.type) + m.data;
}

// A polling session after its handshake.
struct SessionFsmPolling : ::testing::Test {
  SessionFsm fsm{"sid1", small_options()};
  void SetUp() override { fsm.resume(event::Open{false}); }

  // Probe accepted and "2probe" answered (the "3probe" write completed).
  void probe() {
    fsm.resume(event::ProbeStart{});
    fsm.resume(event::WsOpen{});
    const Actions a = fsm.resume(event::WsFrame{"2probe", false});
    ASSERT_EQ(one_frame(only(a, Kind::ws_write)), "3probe");
    fsm.resume(event::WsWritten{});
  }
};

// A WebSocket-only session, its open packet written.
struct SessionFsmWebSocket : ::testing::Test {
  SessionFsm fsm{"sid1", small_options()};
  void SetUp() override {
    fsm.resume(event::Open{true});
    fsm.resume(event::WsOpen{});
    fsm.resume(event::WsWritten{});
  }
};

TEST(SessionFsm, PollingHandshakeAnswersTheOpenPacketAndSchedulesThePing) {
  SessionFsm fsm("abc", small_options());
  const Actions a = fsm.resume(event::Open{false});
  ASSERT_EQ(kinds(a), (std::vector{Kind::reply_payload, Kind::start_timer}));
  EXPECT_EQ(a[0].data, R"(0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,)"
                       R"("pingTimeout":20000,"maxPayload":1000})");
  EXPECT_EQ(a[1].timer, Timer::heartbeat);
  EXPECT_EQ(a[1].delay, 25000ms);
  EXPECT_TRUE(fsm.accepts_probe());
}

TEST(SessionFsm, WebSocketHandshakeWaitsForTheWebSocketThenWritesWhatIsQueuedInOneWrite) {
  SessionFsm fsm("abc", small_options());
  Actions a = fsm.resume(event::Open{true});
  EXPECT_FALSE(has(a, Kind::ws_write));
  EXPECT_TRUE(has(a, Kind::start_timer));
  EXPECT_TRUE(fsm.upgraded());
  EXPECT_FALSE(fsm.accepts_probe());
  fsm.resume(event::Send{"early", false});
  a = fsm.resume(event::WsOpen{});
  const Action& w = only(a, Kind::ws_write);
  ASSERT_EQ(w.messages.size(), 2U);
  EXPECT_EQ(w.messages[0].type, '0');
  EXPECT_EQ(w.messages[0].data.substr(0, 26), R"({"sid":"abc","upgrades":[])");
  EXPECT_EQ(w.messages[1].type, '4');
  EXPECT_EQ(w.messages[1].data, "early");
  EXPECT_EQ(fsm.backlog(), 0u);
  // One write at a time: what is sent meanwhile waits for WsWritten.
  EXPECT_FALSE(has(fsm.resume(event::Send{"later", false}), Kind::ws_write));
  EXPECT_EQ(one_frame(only(fsm.resume(event::WsWritten{}), Kind::ws_write)), "4later");
  EXPECT_TRUE(fsm.resume(event::WsWritten{}).empty());
}

TEST_F(SessionFsmPolling, PingThenPongReschedules) {
  Actions a = fsm.resume(event::TimerFired{Timer::heartbeat});
  ASSERT_EQ(kinds(a), (std::vector{Kind::start_timer}));
  EXPECT_EQ(a[0].timer, Timer::heartbeat);
  EXPECT_EQ(a[0].delay, 20000ms);
  EXPECT_EQ(fsm.backlog(), 1u);
  a = fsm.resume(event::PollGet{});
  ASSERT_EQ(kinds(a), (std::vector{Kind::hold_poll, Kind::respond_poll}));
  EXPECT_EQ(a[1].data, "2");
  a = fsm.resume(event::PollPost{"3"});
  ASSERT_EQ(kinds(a), (std::vector{Kind::start_timer, Kind::reply_ok}));
  EXPECT_EQ(a[0].delay, 25000ms);
  // A pong nobody asked for changes nothing.
  EXPECT_EQ(kinds(fsm.resume(event::PollPost{"3"})), (std::vector{Kind::reply_ok}));
}

TEST_F(SessionFsmPolling, NoPongWithinPingTimeoutCloses) {
  fsm.resume(event::TimerFired{Timer::heartbeat});
  const Actions a = fsm.resume(event::TimerFired{Timer::heartbeat});
  EXPECT_TRUE(fsm.closed());
  // No lingering for a peer that does not answer, though a ping is queued.
  EXPECT_FALSE(fsm.lingering());
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "ping timeout");
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::reply_error).error, EioError::unknown_sid);
}

TEST_F(SessionFsmPolling, HeldGetIsAnsweredBySend) {
  EXPECT_EQ(kinds(fsm.resume(event::PollGet{})), (std::vector{Kind::hold_poll}));
  const Actions a = fsm.resume(event::Send{"hi", false});
  EXPECT_EQ(only(a, Kind::respond_poll).data, "4hi");
  EXPECT_EQ(fsm.backlog(), 0u);
  // Queued while no GET is held, all in the next one.
  fsm.resume(event::Send{"a", false});
  fsm.resume(event::Send{std::string("\x01\x02", 2), true});
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::respond_poll).data,
            "4a\x1e"
            "bAQI=");
}

TEST_F(SessionFsmPolling, DuplicateGetIsAnErrorAndCloses) {
  fsm.resume(event::PollGet{});
  const Actions a = fsm.resume(event::PollGet{});
  ASSERT_EQ(a[0].kind, Kind::reply_error);
  EXPECT_EQ(a[0].error, EioError::bad_request);
  EXPECT_EQ(a[0].status, 400);
  EXPECT_TRUE(has(a, Kind::count_protocol_error));
  EXPECT_EQ(only(a, Kind::respond_poll).data, "1");  // the first GET hears the close
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "transport error");
  EXPECT_TRUE(fsm.closed());
}

TEST_F(SessionFsmPolling, PostOverMaxPayloadIs413AndCloses) {
  const Actions a = fsm.resume(event::PollPost{"4" + std::string(1000, 'x')});
  ASSERT_EQ(a[0].kind, Kind::reply_error);
  EXPECT_EQ(a[0].status, 413);
  EXPECT_TRUE(has(a, Kind::count_protocol_error));
  EXPECT_FALSE(has(a, Kind::deliver));
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_TRUE(fsm.closed());
}

TEST_F(SessionFsmPolling, PostAtMaxPayloadPasses) {
  const Actions a = fsm.resume(event::PollPost{"4" + std::string(999, 'x')});
  EXPECT_EQ(only(a, Kind::deliver).data, std::string(999, 'x'));
  EXPECT_FALSE(fsm.closed());
}

TEST_F(SessionFsmPolling, MalformedPostIs400AndCloses) {
  const Actions a = fsm.resume(event::PollPost{"9x"});
  EXPECT_EQ(a[0].kind, Kind::reply_error);
  EXPECT_EQ(a[0].status, 400);
  EXPECT_TRUE(has(a, Kind::count_protocol_error));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "parse error");
}

TEST_F(SessionFsmPolling, EachMessageOfAPayloadEndsABatch) {
  Actions a =
      fsm.resume(event::PollPost{"4a\x1e"
                                 "bAQI=\x1e"
                                 "6"});
  ASSERT_EQ(kinds(a), (std::vector{Kind::deliver}));
  EXPECT_EQ(a[0].data, "a");
  EXPECT_TRUE(fsm.has_input());
  a = fsm.resume(event::Continue{});
  ASSERT_EQ(kinds(a), (std::vector{Kind::deliver}));
  EXPECT_EQ(a[0].data, std::string("\x01\x02", 2));
  EXPECT_TRUE(a[0].binary);
  a = fsm.resume(event::Continue{});
  EXPECT_EQ(kinds(a), (std::vector{Kind::reply_ok}));
  EXPECT_FALSE(fsm.has_input());
}

TEST_F(SessionFsmPolling, NothingIsDeliveredAfterTheLayerAboveCloses) {
  fsm.resume(
      event::PollPost{"4a\x1e"
                      "4b"});
  fsm.resume(event::Close{"kicked"});  // from on_message("a")
  const Actions a = fsm.resume(event::Continue{});
  EXPECT_EQ(kinds(a), (std::vector{Kind::reply_ok}));
}

TEST_F(SessionFsmPolling, ClientCloseEndsTheHeldGetWithANoop) {
  fsm.resume(event::PollGet{});
  const Actions a =
      fsm.resume(event::PollPost{"1\x1e"
                                 "4late"});
  EXPECT_EQ(only(a, Kind::respond_poll).data, "6");
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "transport close");
  EXPECT_FALSE(has(a, Kind::deliver));
  EXPECT_EQ(a[a.size() - 1].kind, Kind::reply_ok);
  EXPECT_FALSE(fsm.lingering());
}

TEST_F(SessionFsmPolling, OpenPacketFromTheClientIsAParseError) {
  const Actions a = fsm.resume(event::PollPost{"0"});
  EXPECT_EQ(only(a, Kind::notify_closed).data, "parse error");
  EXPECT_TRUE(has(a, Kind::reply_ok));
}

TEST_F(SessionFsmPolling, V3PingIsAnsweredWithPong) {
  fsm.resume(event::PollPost{"2x"});
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::respond_poll).data, "3x");
}

TEST_F(SessionFsmPolling, SlowConsumerIsClosedAtOnce) {
  for (int i = 0; i < 8; ++i) {
    const Actions a = fsm.resume(event::Send{"m", false});
    EXPECT_TRUE(a.empty()) << i;
  }
  const Actions a = fsm.resume(event::Send{"m", false});
  EXPECT_TRUE(has(a, Kind::count_slow_consumer));
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "slow consumer");
  EXPECT_FALSE(fsm.lingering());  // nobody reads: nothing to wait for
  EXPECT_TRUE(fsm.resume(event::Send{"m", false}).empty());
}

TEST_F(SessionFsmPolling, SlowConsumerByBytes) {
  EXPECT_FALSE(fsm.resume(event::Send{std::string(1000, 'x'), false}).size());
  EXPECT_TRUE(
      has(fsm.resume(event::Send{std::string(100, 'x'), false}), Kind::count_slow_consumer));
}

TEST_F(SessionFsmPolling, ClosedWithQueuedPacketsLingersForTheLastPoll) {
  fsm.resume(event::Send{"bye", false});
  Actions a = fsm.resume(event::Close{"logout"});
  EXPECT_TRUE(fsm.closed());
  EXPECT_TRUE(fsm.lingering());
  EXPECT_FALSE(has(a, Kind::forget));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "logout");
  const Action& linger = a[a.size() - 2];
  ASSERT_EQ(linger.kind, Kind::start_timer);
  EXPECT_EQ(linger.timer, Timer::upgrade);
  EXPECT_EQ(linger.delay, 20000ms);
  // No more messages, and no POST, once closed.
  EXPECT_TRUE(fsm.resume(event::Send{"more", false}).empty());
  EXPECT_EQ(only(fsm.resume(event::PollPost{"4x"}), Kind::reply_error).error,
            EioError::unknown_sid);
  a = fsm.resume(event::PollGet{});
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_EQ(only(a, Kind::reply_payload).data,
            "4bye\x1e"
            "1");
  EXPECT_FALSE(fsm.lingering());
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::reply_error).error, EioError::unknown_sid);
}

TEST_F(SessionFsmPolling, LingeringEndsAfterPingTimeout) {
  fsm.resume(event::Send{"bye", false});
  fsm.resume(event::Close{"logout"});
  const Actions a = fsm.resume(event::TimerFired{Timer::upgrade});
  EXPECT_EQ(kinds(a), (std::vector{Kind::forget}));
  EXPECT_FALSE(fsm.lingering());
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::reply_error).error, EioError::unknown_sid);
}

TEST_F(SessionFsmPolling, ClosedWithNothingQueuedIsForgottenAtOnce) {
  const Actions a = fsm.resume(event::Close{"server shutting down"});
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_FALSE(fsm.lingering());
}

TEST_F(SessionFsmPolling, UpgradeProbeNoopAndSwitch) {
  EXPECT_EQ(kinds(fsm.resume(event::PollGet{})), (std::vector{Kind::hold_poll}));
  EXPECT_TRUE(fsm.resume(event::ProbeStart{}).empty());
  EXPECT_TRUE(fsm.upgrading());
  EXPECT_FALSE(fsm.accepts_probe());  // a second WebSocket is refused
  EXPECT_TRUE(fsm.resume(event::WsOpen{}).empty());
  // The probe is answered on the WebSocket, the held poll with a noop.
  Actions a = fsm.resume(event::WsFrame{"2probe", false});
  ASSERT_EQ(kinds(a), (std::vector{Kind::ws_write, Kind::respond_poll}));
  EXPECT_EQ(one_frame(a[0]), "3probe");
  EXPECT_EQ(a[1].data, "6");
  fsm.resume(event::WsWritten{});
  // Polling goes on meanwhile; an idle GET is ended with a noop soon.
  a = fsm.resume(event::PollGet{});
  ASSERT_EQ(kinds(a), (std::vector{Kind::hold_poll, Kind::start_timer}));
  EXPECT_EQ(a[1].timer, Timer::upgrade);
  EXPECT_EQ(a[1].delay, kUpgradeNoopDelay);
  EXPECT_EQ(only(fsm.resume(event::TimerFired{Timer::upgrade}), Kind::respond_poll).data, "6");
  // Messages sent before the switch wait for it; a GET held at the switch
  // is refused.
  fsm.resume(event::PollGet{});
  a = fsm.resume(event::Send{"a", false});
  EXPECT_EQ(only(a, Kind::respond_poll).data, "4a");
  fsm.resume(event::Send{"b", false});
  fsm.resume(event::Send{"c", false});
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::respond_poll).data,
            "4b\x1e"
            "4c");
  EXPECT_TRUE(has(fsm.resume(event::PollGet{}), Kind::hold_poll));
  a = fsm.resume(event::WsFrame{"5", false});
  EXPECT_TRUE(fsm.upgraded());
  EXPECT_EQ(only(a, Kind::cancel_timer).timer, Timer::upgrade);
  EXPECT_EQ(only(a, Kind::respond_poll_error).error, EioError::bad_request);
  EXPECT_FALSE(has(a, Kind::ws_write));  // nothing queued
  EXPECT_EQ(one_frame(only(fsm.resume(event::Send{"d", false}), Kind::ws_write)), "4d");
  // The noop timer, had it fired already, answers nothing now.
  EXPECT_TRUE(fsm.resume(event::TimerFired{Timer::upgrade}).empty());
}

TEST_F(SessionFsmPolling, UpgradeMovesTheQueueToTheWebSocketInOrder) {
  probe();
  fsm.resume(event::Send{"b1", false});
  fsm.resume(event::Send{std::string("\x01", 1), true});
  Actions a = fsm.resume(event::WsFrame{"5", false});
  // The whole queue in one write, in order.
  const Action& w = only(a, Kind::ws_write);
  ASSERT_EQ(w.messages.size(), 2U);
  EXPECT_EQ(w.messages[0].type, '4');
  EXPECT_EQ(w.messages[0].data, "b1");
  EXPECT_FALSE(w.messages[0].binary);
  EXPECT_EQ(w.messages[1].data, std::string("\x01", 1));
  EXPECT_TRUE(w.messages[1].binary);
  EXPECT_FALSE(has(a, Kind::respond_poll_error));  // no GET was held
  fsm.resume(event::Send{"d1", false});            // while the write is in flight
  a = fsm.resume(event::WsWritten{});
  EXPECT_EQ(one_frame(only(a, Kind::ws_write)), "4d1");
  EXPECT_TRUE(fsm.resume(event::WsWritten{}).empty());
  // Polling is refused from now on.
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::reply_error).error, EioError::bad_request);
  EXPECT_EQ(only(fsm.resume(event::PollPost{"4x"}), Kind::reply_error).error,
            EioError::bad_request);
  EXPECT_FALSE(fsm.closed());
}

TEST_F(SessionFsmPolling, UpgradePacketBeforeThePongIsWrittenWaitsForIt) {
  fsm.resume(event::ProbeStart{});
  fsm.resume(event::WsOpen{});
  fsm.resume(event::Send{"q", false});
  EXPECT_EQ(one_frame(only(fsm.resume(event::WsFrame{"2probe", false}), Kind::ws_write)), "3probe");
  // "5" pipelined behind "2probe": one write in flight, the queue after it.
  EXPECT_FALSE(has(fsm.resume(event::WsFrame{"5", false}), Kind::ws_write));
  EXPECT_EQ(one_frame(only(fsm.resume(event::WsWritten{}), Kind::ws_write)), "4q");
}

TEST_F(SessionFsmPolling, OtherFramesOnTheProbeAreIgnored) {
  fsm.resume(event::ProbeStart{});
  fsm.resume(event::WsOpen{});
  EXPECT_TRUE(fsm.resume(event::WsFrame{"4hello", false}).empty());
  EXPECT_TRUE(fsm.resume(event::WsFrame{"2", false}).empty());
  EXPECT_TRUE(fsm.upgrading());
  // A malformed one is a protocol error.
  EXPECT_EQ(only(fsm.resume(event::WsFrame{"9", false}), Kind::notify_closed).data, "parse error");
}

TEST_F(SessionFsmPolling, FailedProbeLeavesTheSessionPolling) {
  probe();
  fsm.resume(event::Send{"still", false});
  EXPECT_TRUE(fsm.resume(event::WsClosed{}).empty());
  EXPECT_FALSE(fsm.closed());
  EXPECT_TRUE(fsm.accepts_probe());
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::respond_poll).data, "4still");
}

TEST_F(SessionFsmPolling, ClosedMidUpgradeCompletesTheUpgradeThenHearsTheClose) {
  probe();
  fsm.resume(event::Send{"last", false});
  Actions a = fsm.resume(event::Close{"logout"});
  EXPECT_TRUE(fsm.lingering());
  EXPECT_FALSE(has(a, Kind::ws_close));
  EXPECT_FALSE(has(a, Kind::forget));
  a = fsm.resume(event::WsFrame{"5", false});
  EXPECT_FALSE(fsm.lingering());
  EXPECT_TRUE(has(a, Kind::forget));
  const Action& w = only(a, Kind::ws_write);  // the last packet and the close, in one write
  ASSERT_EQ(w.messages.size(), 2U);
  EXPECT_EQ(w.messages[0].data, "last");
  EXPECT_EQ(w.messages[1].type, '1');
  EXPECT_EQ(kinds(fsm.resume(event::WsWritten{})), (std::vector{Kind::ws_close}));
  EXPECT_TRUE(fsm.resume(event::WsWritten{}).empty());
  EXPECT_TRUE(fsm.resume(event::WsClosed{}).empty());
}

TEST_F(SessionFsmPolling, ClosedMidUpgradeWithAHeldGetClosesTheProbe) {
  probe();
  fsm.resume(event::PollGet{});
  const Actions a = fsm.resume(event::Close{"logout"});
  EXPECT_FALSE(fsm.lingering());
  EXPECT_EQ(only(a, Kind::respond_poll).data, "1");
  EXPECT_TRUE(has(a, Kind::ws_close));
  EXPECT_TRUE(has(a, Kind::forget));
}

// A client that sends the close packet is not going to finish its upgrade:
// nothing waits for it, the sid is forgotten and the probe closed at once.
TEST_F(SessionFsmPolling, ClientCloseMidUpgradeIsForgottenAtOnce) {
  probe();
  const Actions a = fsm.resume(event::PollPost{"1"});
  EXPECT_FALSE(fsm.lingering());
  EXPECT_TRUE(fsm.closed());
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_TRUE(has(a, Kind::ws_close));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "transport close");
}

TEST_F(SessionFsmPolling, LingeringMidUpgradeEndsWithTheLastPollWhichClosesTheProbe) {
  probe();
  fsm.resume(event::Close{"logout"});
  const Actions a = fsm.resume(event::PollGet{});
  EXPECT_TRUE(has(a, Kind::ws_close));
  EXPECT_EQ(only(a, Kind::reply_payload).data, "1");
}

TEST_F(SessionFsmWebSocket, HeartbeatOnTheWebSocket) {
  Actions a = fsm.resume(event::TimerFired{Timer::heartbeat});
  EXPECT_EQ(one_frame(only(a, Kind::ws_write)), "2");
  EXPECT_EQ(only(a, Kind::start_timer).delay, 20000ms);
  fsm.resume(event::WsWritten{});
  a = fsm.resume(event::WsFrame{"3", false});
  EXPECT_EQ(only(a, Kind::start_timer).delay, 25000ms);
  fsm.resume(event::TimerFired{Timer::heartbeat});  // "2" in flight
  a = fsm.resume(event::TimerFired{Timer::heartbeat});
  EXPECT_EQ(only(a, Kind::notify_closed).data, "ping timeout");
  EXPECT_FALSE(has(a, Kind::ws_close));  // not while a write is in flight
  EXPECT_EQ(kinds(fsm.resume(event::WsWritten{})), (std::vector{Kind::ws_close}));
}

TEST_F(SessionFsmWebSocket, FramesAreDeliveredTextAndBinary) {
  EXPECT_EQ(only(fsm.resume(event::WsFrame{"4hi", false}), Kind::deliver).data, "hi");
  const Actions a = fsm.resume(event::WsFrame{std::string("\x00\x01", 2), true});
  EXPECT_EQ(only(a, Kind::deliver).data, std::string("\x00\x01", 2));
  EXPECT_TRUE(a[0].binary);
}

TEST_F(SessionFsmWebSocket, GracefulCloseWritesWhatIsQueuedFirst) {
  fsm.resume(event::Send{"a", false});  // in flight
  fsm.resume(event::Send{"b", false});
  Actions a = fsm.resume(event::Close{"server shutting down"});
  EXPECT_FALSE(has(a, Kind::ws_close));
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_FALSE(fsm.lingering());
  EXPECT_EQ(one_frame(only(fsm.resume(event::WsWritten{}), Kind::ws_write)), "4b");
  EXPECT_EQ(kinds(fsm.resume(event::WsWritten{})), (std::vector{Kind::ws_close}));
}

TEST_F(SessionFsmWebSocket, ClientClosePacketCloses) {
  const Actions a = fsm.resume(event::WsFrame{"1", false});
  EXPECT_EQ(only(a, Kind::notify_closed).data, "transport close");
  EXPECT_TRUE(has(a, Kind::ws_close));
  EXPECT_TRUE(has(a, Kind::forget));
}

TEST_F(SessionFsmWebSocket, PeerGoneClosesTheSession) {
  fsm.resume(event::Send{"a", false});
  fsm.resume(event::Send{"b", false});
  const Actions a = fsm.resume(event::WsClosed{});
  EXPECT_EQ(only(a, Kind::notify_closed).data, "transport close");
  EXPECT_TRUE(has(a, Kind::forget));
  EXPECT_FALSE(has(a, Kind::ws_close));
  EXPECT_FALSE(fsm.lingering());
}

TEST_F(SessionFsmWebSocket, SlowConsumerIsAbortedDroppingItsQueue) {
  fsm.resume(event::Send{std::string(600, 'x'), false});  // in flight, counted
  fsm.resume(event::Send{std::string(300, 'y'), false});
  const Actions a = fsm.resume(event::Send{std::string(200, 'z'), false});
  EXPECT_TRUE(has(a, Kind::count_slow_consumer));
  EXPECT_TRUE(has(a, Kind::ws_abort));
  EXPECT_FALSE(has(a, Kind::ws_write));
  EXPECT_EQ(only(a, Kind::notify_closed).data, "slow consumer");
  EXPECT_EQ(fsm.backlog(), 0u);
  EXPECT_TRUE(fsm.resume(event::WsWritten{}).empty());
}

TEST_F(SessionFsmWebSocket, PollingWithTheSidIsRefused) {
  EXPECT_EQ(only(fsm.resume(event::PollGet{}), Kind::reply_error).error, EioError::bad_request);
}

TEST_F(SessionFsmWebSocket, ProbeStartIsIgnored) {
  EXPECT_FALSE(fsm.accepts_probe());
  fsm.resume(event::ProbeStart{});
  EXPECT_TRUE(fsm.upgraded());
}

}  // namespace
}  // namespace parley::engineio
