/**
 * What the world's people write: the text of their support tickets (an opening message, follow-ups and the agent's
 * replies) and their survey answers (NPS 0–10 and CSAT 1–5, sometimes with a comment). Each person has a latent
 * satisfaction in [-1, 1] (lower for people who have dropped out) and a preference over the support topics; each of
 * the world's `support_ticket` events gets a topic drawn from that preference and messages whose tone follows the
 * satisfaction. The phrases below were written by hand for each tone and topic, not taken from any sentiment
 * lexicon, so tests that score them check the scorer against the world rather than against itself. About 3% of
 * people write in Spanish, French or German; some messages carry an email address, a phone number or a card number,
 * for redaction to find.
 *
 * @example
 * const voice = worldVoice(createWorld({ seed: 'demo', people: 1_000 }));
 * voice.satisfaction(7); // 0.41
 * voice.tickets(7)[0]?.messages[0]?.text; // 'Hi, I was charged twice for order 10442. …'
 */
import { Rng, hashSeed, streamKey } from './random.js';
import type { World } from './types.js';

/**
 * The support topics of the world, in the order of their ids.
 * @example
 * WORLD_TOPICS.indexOf(ticket.topic); // the true topic id a topic model is scored against
 */
export const WORLD_TOPICS = ['billing', 'delivery', 'account access', 'app defects', 'cancellation'] as const;
/**
 * One of {@link WORLD_TOPICS}.
 * @example
 * const topic: WorldTopic = 'billing';
 */
export type WorldTopic = (typeof WORLD_TOPICS)[number];

/**
 * The language a person writes in.
 * @example
 * if (ticket.language !== 'en') expect(scoreMessage(text).score).toBeNull();
 */
export type WorldLanguage = 'en' | 'es' | 'fr' | 'de';

/**
 * One message of a ticket, by the customer or by an agent.
 * @example
 * const mine = ticket.messages.filter((m: WorldMessage) => m.author === 'customer');
 */
export interface WorldMessage {
  /** `<ticket id>-m<n>`. */
  id: string;
  /** Epoch ms. */
  at: number;
  author: 'customer' | 'agent';
  text: string;
}

/**
 * A support ticket with its topic and messages.
 * @example
 * const ticket: WorldTicket | undefined = voice.tickets(42)[0];
 */
export interface WorldTicket {
  /** The id of the world's `support_ticket` event this ticket is. */
  id: string;
  person: number;
  topic: WorldTopic;
  subject: string;
  status: string;
  language: WorldLanguage;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last message. */
  updatedAt: number;
  messages: WorldMessage[];
}

/**
 * One survey answer: NPS (0–10) or CSAT (1–5), with an optional comment.
 * @example
 * const promoters = voice.surveys(42).filter((s: WorldSurvey) => s.kind === 'nps' && s.score >= 9);
 */
export interface WorldSurvey {
  /** `<worldId>-s<n>`. */
  id: string;
  person: number;
  kind: 'nps' | 'csat';
  /** NPS 0–10 or CSAT 1–5. */
  score: number;
  comment: string | null;
  /** Epoch ms. */
  at: number;
}

/**
 * What the world's people write and answer, and the satisfaction behind it.
 * @example
 * const voice: WorldVoice = worldVoice(world);
 * voice.satisfaction(42); // in [-1, 1]
 */
export interface WorldVoice {
  /** The person's latent satisfaction in [-1, 1]: the truth sentiment and NPS are written from. */
  satisfaction(i: number): number;
  /** Their language. */
  language(i: number): WorldLanguage;
  /** Their tickets, oldest first (the world's support_ticket events, with topic and messages). */
  tickets(i: number): WorldTicket[];
  /** Their survey answers, oldest first. */
  surveys(i: number): WorldSurvey[];
}

const DAY = 86_400_000;
const STREAM = { Mood: 101, Topics: 102, Tickets: 103, Surveys: 104 } as const;

// prettier-ignore
const SUBJECTS: Record<WorldTopic, readonly string[]> = {
  billing: ['Charged twice', 'Invoice question', 'Refund request', 'Wrong amount on my invoice'],
  delivery: ['Where is my order?', 'Parcel not delivered', 'Package arrived damaged', 'Change delivery address'],
  'account access': ['Cannot log in', 'Password reset email', 'Two-factor code', 'Account locked'],
  'app defects': ['App crashes', 'Export fails', 'Sync error', 'Page will not load'],
  cancellation: ['Cancel my subscription', 'Close my account', 'Downgrade plan', 'Stop renewal'],
};

// Each topic's problem statements: what happened, in neutral words; {n} is an order or invoice number.
// prettier-ignore
const PROBLEMS: Record<WorldTopic, readonly string[]> = {
  billing: [
    'I was charged twice for order {n} and the invoice shows both payments.',
    'The invoice for order {n} has a different amount than the checkout price.',
    'I asked for a refund of order {n} and the money is not back on my card yet.',
    'My card statement shows a payment for invoice {n} that I did not expect.',
    'The VAT on invoice {n} is calculated on the full price instead of the discounted price.',
  ],
  delivery: [
    'My parcel for order {n} has not arrived and the tracking page shows no update since Monday.',
    'The courier marked order {n} as delivered but there is no package at my door.',
    'The box for order {n} arrived with the item broken inside the packaging.',
    'I need to change the delivery address for order {n} before it ships.',
    'Order {n} was split into two shipments and only one parcel came.',
  ],
  'account access': [
    'I cannot log in to my account, the password reset email never comes.',
    'The login page says my account is locked after one attempt.',
    'The two-factor code from the authenticator app is rejected at sign in.',
    'After changing my email address I cannot sign in with the new login.',
    'The password reset link says it has expired as soon as I open it.',
  ],
  'app defects': [
    'The app crashes every time I open the reports screen.',
    'Exporting the report to CSV fails with an error after a few seconds.',
    'The mobile app does not sync my data with the web dashboard.',
    'The dashboard page keeps loading and never shows the charts.',
    'Saving a filter throws an error and the settings screen goes blank.',
  ],
  cancellation: [
    'I would like to cancel my subscription at the end of this billing period.',
    'Please close my account and stop the renewal of the plan.',
    'I want to downgrade from the yearly plan to the monthly plan.',
    'How do I cancel the renewal that is scheduled for next month?',
    'Please confirm the cancellation of my membership and the final invoice.',
  ],
};

// A second sentence on the same topic: tickets of one topic share these words whichever problem they describe.
// prettier-ignore
const DETAILS: Record<WorldTopic, readonly string[]> = {
  billing: ['It is about the payment on my last invoice.', 'My billing contact is on the invoice.', 'The payment went through my card on file.', 'I attached the invoice and the payment receipt.'],
  delivery: ['The order tracking number is on the shipping confirmation.', 'The parcel was sent with your usual courier.', 'The delivery address on the order is correct.', 'I checked the tracking for the parcel again today.'],
  'account access': ['My account login email is the one I write from.', 'I tried to sign in to the account from two browsers.', 'The login and password worked last week.', 'I need access to my account for work.'],
  'app defects': ['The error appears in the app and on the web.', 'I am on the latest version of the app.', 'The same error shows on two devices.', 'I restarted the app and the error is still there.'],
  cancellation: ['My subscription plan renews automatically.', 'I no longer need the subscription for my team.', 'Please confirm by email once the plan is cancelled.', 'The subscription is under my company account.'],
};

// Tone, from most unhappy (0) to happiest (4): an opening, a closing and a follow-up per level, written for this world.
// prettier-ignore
const OPENINGS: readonly (readonly string[])[] = [
  ['This is ridiculous.', 'I am furious.', 'Worst service I have ever had.', 'I am fed up with this.'],
  ['I am disappointed.', 'This is frustrating.', 'Not happy about this.', 'Annoying problem here.'],
  ['Hello,', 'Hi,', 'Good morning,', 'Hi there,'],
  ['Hi, hope you are well.', 'Hello, quick question.', 'Hi, small thing.', 'Hello, nice to write again.'],
  ['Hi! I love your product.', 'Hello, you have been great so far.', 'Hi, big fan here.', 'Hello, amazing service as always.'],
];
// prettier-ignore
const CLOSINGS: readonly (readonly string[])[] = [
  ['Fix it now or I will leave and tell everyone.', 'Terrible. I want my money back.', 'Absolutely unacceptable, nobody helps.', 'You have wasted hours of my time, horrible.'],
  ['Please sort it out, this is a bad experience.', 'I expected better, honestly.', 'It is a real hassle and I am not pleased.', 'This should not happen, it is poor.'],
  ['Can you check?', 'What should I do?', 'Please advise.', 'Let me know the next step.'],
  ['Thanks for your help.', 'Thank you, appreciate it.', 'Thanks in advance.', 'Cheers, thank you.'],
  ['Thank you so much, you are wonderful!', 'Great team, thanks a lot!', 'Love it, thanks for the excellent support!', 'You are the best, many thanks!'],
];
// prettier-ignore
const FOLLOW_UPS: readonly (readonly string[])[] = [
  ['Still nothing. This is awful and I am angry.', 'Three days and no fix. Useless.', 'Nobody answers, terrible support, I hate this.'],
  ['Any update? Still not working, which is annoying.', 'I am still waiting and disappointed.', 'This is taking too long, sadly.'],
  ['Any update on this?', 'Following up on my message.', 'Is there news on this ticket?'],
  ['Thanks, that worked.', 'Got it, thanks for the quick reply.', 'Thanks, all fine now.'],
  ['Perfect, fixed! You are awesome, thank you!', 'Brilliant, works great now. Thanks so much!', 'Wonderful, really happy with the help!'],
];
// prettier-ignore
const AGENT_REPLIES = [
  'We have received your request and a colleague is looking into it.',
  'We are checking this with the responsible department and will reply within two working days.',
  'Could you send us a screenshot of the screen where this happens?',
  'We have updated your case; please reply if the issue continues.',
];
// prettier-ignore
const FOREIGN: Record<Exclude<WorldLanguage, 'en'>, readonly string[]> = {
  es: ['Hola, el pedido {n} no ha llegado y nadie responde a mis correos.', 'Hola, la factura del pedido {n} tiene un importe que no es correcto.', 'No puedo entrar en mi cuenta, por favor ayuda con el acceso.'],
  fr: ["Bonjour, la commande {n} n'est pas arrivée et personne ne répond.", 'Bonjour, la facture de la commande {n} est fausse, merci de vérifier.', "Je ne peux pas me connecter à mon compte depuis hier."],
  de: ['Hallo, die Bestellung {n} ist noch nicht angekommen und niemand antwortet.', 'Die Rechnung für die Bestellung {n} ist falsch, bitte prüfen Sie das.', 'Ich kann mich nicht mehr in mein Konto einloggen, das ist sehr ärgerlich.'],
};
// prettier-ignore
const SURVEY_COMMENTS: readonly (readonly string[])[] = [
  ['Would not recommend. Support never solved my problem.', 'Terrible experience, cancelling soon.', 'Too many bugs and nobody cares.'],
  ['Support is slow and the app has issues.', 'Okay product but problems keep coming back.', 'Disappointed with the last months.'],
  ['It does the job.', 'Fine for what we need.', 'Average, nothing special.'],
  ['Good product, helpful support.', 'Works well for our team.', 'Happy with it overall.'],
  ['Love it! Best tool we use.', 'Excellent product and amazing support team.', 'Fantastic, recommended it to friends already.'],
];

/**
 * The voice of the world's people: ticket text, survey answers and the latent satisfaction behind them.
 * @example
 * const voice = worldVoice(world);
 * for (const ticket of voice.tickets(42)) console.log(ticket.topic, ticket.messages.length);
 */
export function worldVoice(world: World): WorldVoice {
  const seedHash = hashSeed(world.seed);
  const rng = (i: number, stream: number): Rng => new Rng(streamKey(seedHash, i, stream));

  const mood = (i: number): { satisfaction: number; language: WorldLanguage } => {
    const r = rng(i, STREAM.Mood);
    const truth = world.truth(i);
    const shift = truth.alive ? 0.35 : -0.55;
    const satisfaction = Math.tanh(0.9 * r.normal() + shift);
    const u = r.next();
    const language: WorldLanguage = u < 0.01 ? 'es' : u < 0.02 ? 'fr' : u < 0.03 ? 'de' : 'en';
    return { satisfaction, language };
  };

  // The tone level of one piece of text: the satisfaction plus a little noise, cut into five bands.
  const tone = (satisfaction: number, r: Rng): number => {
    const x = satisfaction + 0.25 * r.normal();
    return x < -0.55 ? 0 : x < -0.15 ? 1 : x < 0.2 ? 2 : x < 0.55 ? 3 : 4;
  };

  const contactDetail = (r: Rng, i: number): string => {
    const u = r.next();
    if (u < 0.04) return ` You can reach me at +1 415 555 ${String(1000 + (i % 9000)).padStart(4, '0')}.`;
    if (u < 0.07) return ` Please write to person${i}@example.com instead.`;
    if (u < 0.08) return ' The card I used ends in 4242, full number 4242 4242 4242 4242.';
    return '';
  };

  const tickets = (i: number): WorldTicket[] => {
    const { satisfaction, language } = mood(i);
    const prefs = rng(i, STREAM.Topics);
    const main = prefs.int(WORLD_TOPICS.length);
    const second = prefs.int(WORLD_TOPICS.length);
    const r = rng(i, STREAM.Tickets);
    const out: WorldTicket[] = [];
    for (const event of world.events(i)) {
      if (event.type !== 'support_ticket') continue;
      const topic = WORLD_TOPICS[r.chance(0.75) ? main : r.chance(0.6) ? second : r.int(WORLD_TOPICS.length)]!;
      const n = String(10_000 + r.int(90_000));
      const level = tone(satisfaction, r);
      const opening =
        language === 'en'
          ? `${r.pick(OPENINGS[level]!)} ${r.pick(PROBLEMS[topic]).replace('{n}', n)} ${r.pick(DETAILS[topic])} ${r.pick(CLOSINGS[level]!)}${contactDetail(r, i)}`
          : r.pick(FOREIGN[language]).replace('{n}', n);
      const messages: WorldMessage[] = [{ id: `${event.id}-m0`, at: event.at, author: 'customer', text: opening }];
      let at = event.at;
      const replies = r.int(3);
      for (let m = 0; m < replies; m++) {
        at += (1 + r.int(48)) * 3_600_000;
        if (at >= world.now) break;
        messages.push({ id: `${event.id}-m${messages.length}`, at, author: 'agent', text: r.pick(AGENT_REPLIES) });
        at += (1 + r.int(48)) * 3_600_000;
        if (at >= world.now || language !== 'en') break;
        const text = r.pick(FOLLOW_UPS[tone(satisfaction, r)]!);
        messages.push({ id: `${event.id}-m${messages.length}`, at, author: 'customer', text });
      }
      out.push({
        id: event.id,
        person: i,
        topic,
        subject: r.pick(SUBJECTS[topic]),
        status: String(event.properties.status ?? 'open'),
        language,
        createdAt: event.at,
        updatedAt: messages[messages.length - 1]!.at,
        messages,
      });
    }
    return out;
  };

  const surveys = (i: number): WorldSurvey[] => {
    const { satisfaction, language } = mood(i);
    const r = rng(i, STREAM.Surveys);
    const person = world.person(i);
    const from = Math.max(person.createdAt, world.now - 365 * DAY);
    const count = r.chance(0.45) ? 1 + r.int(2) : 0;
    const times = Array.from({ length: count }, () => from + r.next() * (world.now - from)).sort((a, b) => a - b);
    return times.map((at, n) => {
      const kind = r.chance(0.75) ? 'nps' : 'csat';
      const x = satisfaction + 0.3 * r.normal();
      const score =
        kind === 'nps'
          ? Math.max(0, Math.min(10, Math.round(6.5 + 4 * x)))
          : Math.max(1, Math.min(5, Math.round(3.4 + 1.8 * x)));
      const comment = language === 'en' && r.chance(0.5) ? r.pick(SURVEY_COMMENTS[tone(satisfaction, r)]!) : null;
      return { id: `${person.worldId}-s${n}`, person: i, kind, score, comment, at };
    });
  };

  return {
    satisfaction: (i) => mood(i).satisfaction,
    language: (i) => mood(i).language,
    tickets,
    surveys,
  };
}
