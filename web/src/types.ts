// The wire objects of Parley's contract (docs/api.md), as the client uses them.

export interface User {
  _id: string;
  name: string;
  email: string;
  avatar: string | null;
  createdAt: string;
  lastSeen: string | null;
  online?: boolean;
}

export interface Message {
  _id: string;
  conversationId: string;
  seq: number;
  from: string;
  to: string | null;
  text: string;
  createdAt: string;
  delivered: boolean;
  deliveredAt: string | null;
  read: boolean;
  readAt: string | null;
  tempId?: string;
  deliveredCount?: number;
  readCount?: number;
}

export interface Conversation {
  _id: string;
  type: 'direct' | 'group';
  participants: string[];
  peer?: User;
  name?: string;
  ownerId?: string;
  lastMessage: Message | null;
  unreadCount: number;
  updatedAt: string;
}

export interface ApiError {
  error: string;
  message: string;
  fields?: Record<string, string>;
}
