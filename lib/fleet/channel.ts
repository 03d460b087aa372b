/**
 * The in-process fleet source: the members of one process (Bun's worker threads, the isolates of
 * `deno serve --parallel`) find each other's connections over a `BroadcastChannel`, which both
 * runtimes deliver between the threads or isolates of one process and never between processes.
 *
 * Nothing travels on the handshake or echo paths: a member speaks only to announce itself (at start,
 * then every `heartbeatMs`), when `/info` asks, and to answer another member's question. Each
 * question carries an id; every member answers it from its own registry, and the asker stops waiting
 * once every member it knows of has answered, or after `waitMs`, whichever comes first.
 *
 * @module
 */
import { clearInterval, setInterval } from "node:timers";
import type { ConnectionRecord, FleetMatch, FleetMember, FleetSource, FleetStatus } from "../fleet_source.ts";

/** The part of a `BroadcastChannel` this source uses (injected, so tests can pass two real ones). */
export interface FleetChannel {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** A member's own connections with one tag, as `/info?tag=` shows them. */
export interface LocalMatch {
  live: ConnectionRecord[];
  recent: ConnectionRecord[];
}

/** What this member tells the others, read when it speaks, so counters are as fresh as the question. */
export interface FleetAnswers {
  /** This member now (its id, pid, live count, totals and port); `seenAt` is added when sent. */
  self(): Omit<FleetMember, "seenAt">;
  /** This member's connections tagged `tag`. */
  find(tag: string): Promise<LocalMatch>;
}

/** Options of {@link ChannelFleet}. */
export interface ChannelFleetOptions {
  /** How long a question waits for members that have not answered (default 250 ms). */
  waitMs?: number;
  /** How often a member announces itself (default 1 s); one unheard for 3 periods is dropped. */
  heartbeatMs?: number;
  /** Called with every other member heard from (the Deno entry learns its port this way). */
  heard?(member: FleetMember): void;
}

/** The name of the channel the entries open; every member of one process joins it. */
export const FLEET_CHANNEL = "echo-fleet";

type Wire =
  | { kind: "hello"; member: FleetMember; reply: boolean }
  | { kind: "bye"; id: string }
  | { kind: "ask"; question: string; from: string; tag?: string }
  | { kind: "answer"; question: string; to: string; member: FleetMember } & Partial<LocalMatch>;

type Answer = Extract<Wire, { kind: "answer" }>;

interface Question {
  answers: Map<string, Answer>;
  /** Settles the question if every member known now has answered. */
  check(): void;
}

/** A fleet source over a `BroadcastChannel`-like object shared by the members of one process. */
export class ChannelFleet implements FleetSource {
  readonly name = "process";
  #channel: FleetChannel;
  #answers: FleetAnswers;
  #waitMs: number;
  #heartbeatMs: number;
  #heard: ((member: FleetMember) => void) | undefined;
  /** Other members by id, as last heard. */
  #known = new Map<string, FleetMember>();
  #questions = new Map<string, Question>();
  #asked = 0;
  #closed = false;
  #timer: ReturnType<typeof setInterval>;

  constructor(channel: FleetChannel, answers: FleetAnswers, options: ChannelFleetOptions = {}) {
    this.#channel = channel;
    this.#answers = answers;
    this.#waitMs = options.waitMs ?? 250;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#heard = options.heard;
    channel.onmessage = (event) => this.#receive(event.data as Wire);
    // Asking for replies lets a member that starts late learn the fleet at once, not a heartbeat later.
    this.#post({ kind: "hello", member: this.#self(), reply: true });
    this.#timer = setInterval(() => {
      this.#forgetSilent();
      this.#post({ kind: "hello", member: this.#self(), reply: false });
    }, this.#heartbeatMs);
    // The heartbeat alone never keeps a process up (Deno's serve exits once its drain is done).
    this.#timer.unref();
  }

  lookup(tag: string): Promise<FleetMatch[]> {
    return this.#ask(tag).then((answers) =>
      answers.filter((a) => (a.live?.length ?? 0) + (a.recent?.length ?? 0) > 0)
        .map((a) => ({ member: a.member, live: a.live ?? [], recent: a.recent ?? [] }))
    );
  }

  async members(): Promise<FleetMember[]> {
    const answers = await this.#ask(undefined);
    const fresh = new Map(answers.map((a) => [a.member.id, a.member]));
    // A member known but silent this time is listed as last heard: its `seenAt` shows how stale.
    for (const [id, member] of this.#known) if (!fresh.has(id)) fresh.set(id, member);
    return [...fresh.values()].sort((a, b) => a.id < b.id ? -1 : 1);
  }

  status(): FleetStatus {
    return this.#closed
      ? { source: this.name, available: false, reason: "closed at shutdown" }
      : { source: this.name, available: true };
  }

  close(): void {
    if (this.#closed) return;
    this.#post({ kind: "bye", id: this.#answers.self().id });
    this.#closed = true;
    clearInterval(this.#timer);
    this.#channel.onmessage = null;
    this.#channel.close();
    for (const question of this.#questions.values()) question.check();
  }

  #self(): FleetMember {
    return { ...this.#answers.self(), seenAt: Date.now() };
  }

  #post(message: Wire): void {
    if (this.#closed) return;
    try {
      this.#channel.postMessage(message);
    } catch {
      // A channel closed under us (the runtime is shutting the thread down): nobody is left to tell.
    }
  }

  /** Asks every member; resolves with the answers heard once all known members answered or time ran out. */
  #ask(tag: string | undefined): Promise<Answer[]> {
    if (this.#closed) return Promise.resolve([]);
    this.#forgetSilent();
    const question = `${this.#answers.self().id}:${++this.#asked}`;
    return new Promise((resolve) => {
      const answers = new Map<string, Answer>();
      const done = () => {
        clearTimeout(timer);
        this.#questions.delete(question);
        resolve([...answers.values()]);
      };
      const timer = setTimeout(done, this.#waitMs);
      this.#questions.set(question, {
        answers,
        check: () => {
          if (this.#closed || [...this.#known.keys()].every((id) => answers.has(id))) done();
        },
      });
      this.#post({
        kind: "ask",
        question,
        from: this.#answers.self().id,
        ...(tag === undefined ? {} : { tag }),
      });
      this.#questions.get(question)?.check();
    });
  }

  #receive(message: Wire): void {
    if (this.#closed || typeof message !== "object" || message === null) return;
    switch (message.kind) {
      case "hello":
        this.#hear(message.member);
        if (message.reply) this.#post({ kind: "hello", member: this.#self(), reply: false });
        return;
      case "bye":
        this.#known.delete(message.id);
        for (const question of this.#questions.values()) question.check();
        return;
      case "ask":
        void this.#answer(message.question, message.from, message.tag);
        return;
      case "answer": {
        this.#hear(message.member);
        const question = this.#questions.get(message.question);
        if (!question || message.to !== this.#answers.self().id) return;
        question.answers.set(message.member.id, message);
        question.check();
      }
    }
  }

  async #answer(question: string, to: string, tag: string | undefined): Promise<void> {
    let found: LocalMatch | undefined;
    if (tag !== undefined) {
      try {
        found = await this.#answers.find(tag);
      } catch {
        found = { live: [], recent: [] };
      }
    }
    this.#post({ kind: "answer", question, to, member: this.#self(), ...found });
  }

  #hear(member: FleetMember): void {
    if (member.id === this.#answers.self().id) return;
    this.#known.set(member.id, { ...member, seenAt: Date.now() });
    this.#heard?.(member);
  }

  /** Drops members silent for three heartbeats (a thread or isolate that died without a goodbye). */
  #forgetSilent(): void {
    const before = Date.now() - 3 * this.#heartbeatMs;
    for (const [id, member] of this.#known) if (member.seenAt < before) this.#known.delete(id);
  }
}
