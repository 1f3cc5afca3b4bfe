// The signed-in screen: conversations and people on the side, the open
// conversation beside them (one at a time on a narrow screen).
import { useEffect, useState } from 'preact/hooks';
import type { Chat } from '../chat';
import { useChat } from '../use_chat';
import { ChatView } from './ChatView';
import { Conversations } from './Conversations';
import { GroupDialog } from './GroupDialog';
import { People } from './People';

export function Main({ chat, onLogout }: { chat: Chat; onLogout: () => void }) {
  useChat(chat);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    void chat.loadUsers();
  }, [chat]);

  const openUser = (userId: string) => {
    const direct = chat.conversations.find((c) => c.type === 'direct' && c.peer?._id === userId);
    void chat.open(direct ? direct._id : userId);
  };

  return (
    <div class={`layout ${chat.activeId ? 'has-active' : ''}`}>
      <header class="top">
        <h1>Parley</h1>
        <span class={`status ${chat.connected ? 'on' : 'off'}`} role="status">
          {chat.connected ? 'Connected' : 'Reconnecting…'}
        </span>
        <span class="me">{chat.me.name}</span>
        <button type="button" onClick={onLogout}>
          Log out
        </button>
      </header>
      <nav class="side" aria-label="Conversations and people">
        <button type="button" onClick={() => setCreating(true)}>
          New group
        </button>
        <Conversations chat={chat} />
        <People chat={chat} onOpen={openUser} />
      </nav>
      <main class="pane">
        {chat.activeId ? (
          <ChatView key={chat.activeId} chat={chat} id={chat.activeId} />
        ) : (
          <p class="empty">Choose a conversation or a person to start chatting.</p>
        )}
      </main>
      {creating && <GroupDialog chat={chat} onClose={() => setCreating(false)} />}
    </div>
  );
}
