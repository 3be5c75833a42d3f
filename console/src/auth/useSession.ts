import { useEffect, useState } from "react";
import { currentSession, onSessionChange, type Session } from "./session";

export function useSession(): Session | null {
  const [session, setSession] = useState<Session | null>(() => currentSession());
  useEffect(() => onSessionChange(setSession), []);
  return session;
}
