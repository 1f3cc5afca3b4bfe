// Create a group: a name and at least one other member.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Chat } from '../chat';

export function GroupDialog({ chat, onClose }: { chat: Chat; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const ids = f.getAll('member').map(String);
    try {
      const c = await chat.createGroup(String(f.get('name')), ids);
      onClose();
      await chat.open(c._id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <dialog ref={dialog} onClose={onClose} aria-labelledby="new-group-h">
      <form onSubmit={submit}>
        <h2 id="new-group-h">New group</h2>
        <label>
          Group name
          <input name="name" required maxLength={64} />
        </label>
        <fieldset>
          <legend>Members</legend>
          {chat.users.map((u) => (
            <label key={u._id} class="check">
              <input type="checkbox" name="member" value={u._id} /> {u.name}
            </label>
          ))}
        </fieldset>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit">Create group</button>
        </div>
      </form>
    </dialog>
  );
}
