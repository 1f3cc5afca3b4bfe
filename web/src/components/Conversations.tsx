// The conversation list: most recent first, with unread badges.
import type { Chat } from '../chat';
import { shortTime } from '../format';

export function Conversations({ chat }: { chat: Chat }) {
  return (
    <section aria-labelledby="conversations-h">
      <h2 id="conversations-h">Conversations</h2>
      <ul class="list" aria-label="Conversations">
        {chat.conversations.map((c) => {
          const title = chat.title(c);
          const last = c.lastMessage;
          const online = c.type === 'direct' && c.peer && chat.online.has(c.peer._id);
          return (
            <li key={c._id}>
              <button
                type="button"
                class={`row ${chat.activeId === c._id ? 'active' : ''}`}
                aria-current={chat.activeId === c._id ? 'true' : undefined}
                data-conversation={title}
                onClick={() => void chat.open(c._id)}
              >
                {c.type === 'direct' ? (
                  <span class={`dot ${online ? 'on' : ''}`} aria-hidden="true" />
                ) : (
                  <span class="dot group" aria-hidden="true" />
                )}
                <span class="name">{title}</span>
                {last && <time class="time">{shortTime(last.createdAt)}</time>}
                {c.unreadCount > 0 && (
                  <span class="badge" aria-label={`${c.unreadCount} unread`}>
                    {c.unreadCount}
                  </span>
                )}
                <span class="preview">
                  {last ? `${last.from === chat.me._id ? 'You: ' : ''}${last.text}` : 'No messages yet'}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
