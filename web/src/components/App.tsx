// The page: the sign-in form, or the chat once the session cookie holds a user.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Chat } from '../chat';
import type { User } from '../types';
import { Auth } from './Auth';
import { Main } from './Main';

export function App() {
  const [chat, setChat] = useState<Chat | null>(null);
  const [checked, setChecked] = useState(false);

  const signedIn = (u: User) => setChat(new Chat(u));

  useEffect(() => {
    api
      .me()
      .then(signedIn)
      .catch(() => undefined)
      .finally(() => setChecked(true));
  }, []);

  useEffect(() => {
    if (checked) performance.mark('parley:first-screen');
  }, [checked]);

  const logout = async () => {
    await api.logout().catch(() => undefined);
    chat?.close();
    setChat(null);
  };

  if (!checked) return <p class="loading">Loading…</p>;
  return chat ? <Main chat={chat} onLogout={logout} /> : <Auth onSignedIn={signedIn} />;
}
