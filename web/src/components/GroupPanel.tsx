// A group's settings: rename (any member), add and remove members (the
// owner), leave. Escape closes it (the caller puts the focus back).
import { useState } from 'preact/hooks';
import type { Chat } from '../chat';
import type { Conversation } from '../types';

export function GroupPanel({ chat, conv, onClose }: { chat: Chat; conv: Conversation; onClose: () => void }) {
  const [name, setName] = useState(conv.name ?? '');
  const [adding, setAdding] = useState('');
  const [error, setError] = useState('');
  const owner = conv.ownerId === chat.me._id;
  const candidates = chat.users.filter((u) => !conv.participants.includes(u._id));

  const run = (fn: () => Promise<unknown>) => {
    setError('');
    fn().catch((e: Error) => setError(e.message));
  };

  return (
    <div
      class="panel"
      role="region"
      aria-label="Group info"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          onClose();
        }
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(() => chat.rename(conv._id, name));
        }}
      >
        <label>
          Group name
          <input value={name} maxLength={64} required onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button type="submit">Rename</button>
      </form>
      <h3>Members</h3>
      <ul class="members">
        {conv.participants.map((id) => (
          <li key={id}>
            <span>
              {chat.nameOf(id)}
              {id === conv.ownerId ? ' (owner)' : ''}
            </span>
            {owner && id !== chat.me._id && (
              <button type="button" aria-label={`Remove ${chat.nameOf(id)}`} onClick={() => run(() => chat.removeMember(conv._id, id))}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {owner && candidates.length > 0 && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (adding) run(() => chat.addMembers(conv._id, [adding]));
          }}
        >
          <label>
            Add a member
            <select value={adding} onChange={(e) => setAdding((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">Choose…</option>
              {candidates.map((u) => (
                <option key={u._id} value={u._id}>
                  {u.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Add</button>
        </form>
      )}
      <button type="button" class="danger" onClick={() => run(() => chat.removeMember(conv._id, chat.me._id).then(() => chat.open(null)))}>
        Leave group
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
