// REST calls on the same origin. The session is the HttpOnly cookie the
// server sets at login (credentials: 'same-origin'): no token is kept in
// script-readable storage.
import type { ApiError, Conversation, Message, User } from './types';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError | null,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new HttpError(res.status, data as ApiError | null);
  return data as T;
}

const q = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][],
  ).toString();

export const api = {
  me: () => call<User>('GET', '/api/auth/me'),
  register: (name: string, email: string, password: string) =>
    call<{ user: User }>('POST', '/api/auth/register', { name, email, password }),
  login: (email: string, password: string) =>
    call<{ user: User }>('POST', '/api/auth/login', { email, password }),
  logout: () => call<unknown>('POST', '/api/auth/logout'),
  users: (search: string) => call<User[]>('GET', `/api/users?${q({ q: search, limit: 100 })}`),
  conversations: () => call<Conversation[]>('GET', '/api/conversations'),
  conversation: (id: string) => call<Conversation>('GET', `/api/conversations/${id}`),
  history: (id: string, params: { before?: string; afterSeq?: number; limit?: number }) =>
    call<Message[]>('GET', `/api/messages/${id}?${q(params)}`),
  createGroup: (name: string, memberIds: string[]) =>
    call<Conversation>('POST', '/api/conversations', { type: 'group', name, memberIds }),
  rename: (id: string, name: string) => call<Conversation>('PATCH', `/api/conversations/${id}`, { name }),
  addMembers: (id: string, userIds: string[]) =>
    call<Conversation>('POST', `/api/conversations/${id}/members`, { userIds }),
  removeMember: (id: string, userId: string) =>
    call<unknown>('DELETE', `/api/conversations/${id}/members/${userId}`),
};
