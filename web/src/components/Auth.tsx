// Register or log in. The server answers with the session cookie.
import { useState } from 'preact/hooks';
import { api, HttpError } from '../api';
import type { User } from '../types';

export function Auth({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const email = String(f.get('email'));
    const password = String(f.get('password'));
    setBusy(true);
    setError('');
    try {
      const r =
        mode === 'register'
          ? await api.register(String(f.get('name')), email, password)
          : await api.login(email, password);
      onSignedIn(r.user);
    } catch (err) {
      const fields = err instanceof HttpError ? err.body?.fields : undefined;
      setError(
        fields ? Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; ') : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  const register = mode === 'register';
  return (
    <main class="auth">
      <h1>Parley</h1>
      <form onSubmit={submit} aria-label={register ? 'Create an account' : 'Log in'}>
        <h2>{register ? 'Create an account' : 'Log in'}</h2>
        {register && (
          <label>
            Name
            <input name="name" autoComplete="name" required maxLength={64} />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={register ? 'new-password' : 'current-password'}
            required
            minLength={8}
            maxLength={72}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {register ? 'Create account' : 'Log in'}
        </button>
        <button type="button" class="link" onClick={() => setMode(register ? 'login' : 'register')}>
          {register ? 'I have an account' : 'Create an account'}
        </button>
      </form>
    </main>
  );
}
