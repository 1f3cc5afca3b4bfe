// Re-renders a component whenever the Chat it reads changes.
import { useEffect, useReducer } from 'preact/hooks';
import type { Chat } from './chat';

export function useChat(chat: Chat) {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const off = chat.subscribe(() => tick(undefined));
    return () => {
      off();
    };
  }, [chat]);
}
