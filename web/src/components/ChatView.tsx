// One conversation: its history (older pages load as you scroll up), the
// typing line and the composer.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Chat, LocalMessage } from '../chat';
import { shortTime } from '../format';
import type { Conversation } from '../types';
import { GroupPanel } from './GroupPanel';

export function ChatView({ chat, id }: { chat: Chat; id: string }) {
  const conv = chat.conversations.find((c) => c._id === id);
  const peer = conv ? undefined : chat.users.find((u) => u._id === id);
  const thread = chat.thread(id);
  const list = useRef<HTMLDivElement>(null);
  const infoButton = useRef<HTMLButtonElement>(null);
  const [showInfo, setShowInfo] = useState(false);
  const stick = useRef(true); // keep to the bottom unless the reader scrolled up
  const prevHeight = useRef(0);
  const prevFirst = useRef<string | undefined>(undefined);

  const title = conv ? chat.title(conv) : (peer?.name ?? 'Conversation');
  const removed = chat.removedFrom.has(id) && !conv;

  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    const first = thread.messages[0]?._id;
    // A scroll the reader made since the last render whose event is not
    // handled yet still counts: a view taken away from the bottom is not
    // pinned back to it by an update arriving meanwhile.
    if (prevHeight.current && prevHeight.current - el.scrollTop - el.clientHeight >= 40) stick.current = false;
    if (prevFirst.current && first !== prevFirst.current) {
      // Older messages were prepended: keep what the reader was looking at.
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
  });

  const onScroll = () => {
    // A scroll event can be dispatched after the view was closed (the ref cleared).
    const el = list.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    prevHeight.current = el.scrollHeight;
    if (el.scrollTop < 60 && !thread.complete && !thread.loading) void chat.loadOlder(id);
  };

  const typers = chat.typers(id);
  return (
    <section class="chat" aria-label={`Conversation with ${title}`}>
      <header class="chat-head">
        <button type="button" class="back" aria-label="Back to conversations" onClick={() => void chat.open(null)}>
          ‹
        </button>
        <h2>{title}</h2>
        {conv?.type === 'group' && (
          <button type="button" ref={infoButton} aria-expanded={showInfo} onClick={() => setShowInfo(!showInfo)}>
            Group info
          </button>
        )}
      </header>
      {showInfo && conv && (
        <GroupPanel
          chat={chat}
          conv={conv}
          onClose={() => {
            setShowInfo(false);
            infoButton.current?.focus();
          }}
        />
      )}
      {removed && (
        <p class="notice" role="status">
          You are no longer a member of this group.
        </p>
      )}
      <div class="messages" ref={list} onScroll={onScroll} role="log" aria-label="Messages" tabIndex={0}>
        <ol>
        {thread.loading && <li class="notice">Loading…</li>}
        {thread.complete && thread.messages.length > 0 && <li class="notice">Start of the conversation</li>}
        {thread.messages.map((m) => (
            <MessageItem key={m.tempId ?? m._id} chat={chat} m={m} conv={conv} />
          ))}
        </ol>
      </div>
      <p class="typing" aria-live="polite">
        {typers.length > 0 ? `${typers.join(', ')} ${typers.length > 1 ? 'are' : 'is'} typing…` : ''}
      </p>
      {!removed && <Composer chat={chat} id={id} />}
    </section>
  );
}

function MessageItem({ chat, m, conv }: { chat: Chat; m: LocalMessage; conv?: Conversation }) {
  const mine = m.from === chat.me._id;
  const group = conv?.type === 'group';
  const status = m.failed ? 'failed' : m.pending ? 'pending' : m.read ? 'read' : m.delivered ? 'delivered' : 'sent';
  const others = (conv?.participants.length ?? 2) - 1;
  const counts = group ? `delivered to ${m.deliveredCount ?? 0} of ${others}, read by ${m.readCount ?? 0} of ${others}` : '';
  const label = { failed: 'Not sent', pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read' }[status];
  return (
    <li class={`msg ${mine ? 'mine' : ''}`} data-seq={m.pending ? undefined : m.seq}>
      {group && !mine && <span class="from">{chat.nameOf(m.from)}</span>}
      <p class="text">{m.text}</p>
      <span class="meta">
        <time dateTime={m.createdAt}>{shortTime(m.createdAt)}</time>
        {mine && (
          <span class={`tick ${status}`} data-status={status} title={counts || label} aria-label={counts ? `${label}: ${counts}` : label}>
            {status === 'pending' ? '…' : status === 'failed' ? '!' : status === 'sent' ? '✓' : '✓✓'}
          </span>
        )}
      </span>
      {m.failed && (
        <button type="button" class="link" onClick={() => chat.retry(m.tempId!)}>
          {m.failed}: retry
        </button>
      )}
    </li>
  );
}

function Composer({ chat, id }: { chat: Chat; id: string }) {
  const [text, setText] = useState('');
  const lastTyping = useRef(0);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => input.current?.focus(), [id]);

  const send = (e?: Event) => {
    e?.preventDefault();
    const t = text.trim();
    if (!t) return;
    chat.send(id, t);
    setText('');
    lastTyping.current = 0;
  };

  const onInput = (e: Event) => {
    setText((e.currentTarget as HTMLTextAreaElement).value);
    const now = Date.now();
    if (now - lastTyping.current > 2000) {
      lastTyping.current = now;
      chat.setTyping(id, true);
    }
  };

  return (
    <form class="composer" onSubmit={send}>
      <textarea
        ref={input}
        aria-label="Message"
        placeholder="Message"
        rows={1}
        maxLength={4000}
        value={text}
        onInput={onInput}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) send(e);
        }}
      />
      <button type="submit">Send</button>
    </form>
  );
}
