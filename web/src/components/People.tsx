// Everyone else, searchable by name or email, with online dots.
import { useEffect, useState } from 'preact/hooks';
import type { Chat } from '../chat';

export function People({ chat, onOpen }: { chat: Chat; onOpen: (userId: string) => void }) {
  const [search, setSearch] = useState('');

  useEffect(() => {
    const t = window.setTimeout(() => void chat.loadUsers(search.trim()).catch(() => undefined), 200);
    return () => window.clearTimeout(t);
  }, [chat, search]);

  return (
    <section aria-labelledby="people-h">
      <h2 id="people-h">People</h2>
      <input
        type="search"
        aria-label="Search people"
        placeholder="Search people"
        value={search}
        onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
      />
      <ul class="list" aria-label="People">
        {chat.users.map((u) => {
          const online = chat.online.has(u._id);
          return (
            <li key={u._id}>
              <button type="button" class="row" data-user={u.name} onClick={() => onOpen(u._id)}>
                <span class={`dot ${online ? 'on' : ''}`} data-online={online ? 'true' : 'false'} />
                <span class="name">{u.name}</span>
                <span class="sr-only">{online ? ', online' : ', offline'}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
