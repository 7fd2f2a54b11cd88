/** Who is signed in, for every view (the role decides which actions are enabled). */
import { createContext } from "preact";
import type { SessionInfo } from "./api.ts";

export const SessionContext = createContext<SessionInfo | null>(null);
