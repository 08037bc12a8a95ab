/**
 * The file connector's config: which files hold contacts, events and accounts, and which columns mean what.
 *
 * @example
 * spec.parse({
 *   contacts: { path: 'crm/contacts.csv', columns: { 'E-mail': 'email', Modified: 'updated_at' }, cursorColumn: 'Modified' },
 *   events: { path: 'shop/orders.jsonl', emailColumn: 'customer_email', valueColumn: 'total', types: { order: 'purchase' } },
 * });
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../../plugins/index.js';

const file = {
  /** The file to read, relative to the working directory. */
  path: z.string().min(1),
  /** Inferred from the extension (.csv, .jsonl, .ndjson) when omitted. */
  format: z.enum(['csv', 'jsonl']).optional(),
  /** The column holding each row's unique id. */
  idColumn: z.string().min(1).default('id'),
};

export const contactsSpec = z.object({
  ...file,
  /** An ISO-8601 timestamp column; incremental reads resume from it. */
  cursorColumn: z.string().min(1).default('updated_at'),
  /** Renames file columns to canonical traits (`{ 'E-mail': 'email' }`); other columns keep their own name. */
  columns: z.record(z.string(), z.string().min(1)).default({}),
});

export const eventsSpec = z
  .object({
    ...file,
    /** An ISO-8601 timestamp column: when the event happened, and the incremental cursor. */
    cursorColumn: z.string().min(1).default('occurred_at'),
    /** A column holding a canonical event type (`purchase`, `email_open`, …), or a value mapped by `types`. */
    typeColumn: z.string().min(1).default('type'),
    /** Maps the file's own type names to canonical ones: `{ order: 'purchase' }`. */
    types: z.record(z.string(), z.enum(EVENT_TYPES)).default({}),
    /** Who the event belongs to: an email column, a contact id column, or both. */
    emailColumn: z.string().min(1).optional(),
    contactIdColumn: z.string().min(1).optional(),
    /** A numeric column: the order total, the deal amount. */
    valueColumn: z.string().min(1).optional(),
    /**
     * A column of free text a customer wrote (a ticket's description, a survey comment): loaded as the event's `text`
     * property, which segflow scores for sentiment and then drops or redacts (config `text:`).
     */
    textColumn: z.string().min(1).optional(),
  })
  .refine((events) => events.emailColumn !== undefined || events.contactIdColumn !== undefined, {
    message: 'events need emailColumn or contactIdColumn (or both) to say whose event each row is',
  });

export const accountsSpec = z.object({
  ...file,
  /** An ISO-8601 timestamp column; incremental reads resume from it. */
  cursorColumn: z.string().min(1).default('updated_at'),
  /** Renames file columns to canonical account traits (`{ Company: 'name', Website: 'domain' }`). */
  columns: z.record(z.string(), z.string().min(1)).default({}),
  /** A column listing the account's contacts by their contacts-file ids, separated by `;` (replaces them). */
  membersColumn: z.string().min(1).optional(),
});

export const spec = z
  .object({
    contacts: contactsSpec.optional(),
    events: eventsSpec.optional(),
    /** Companies: one row per account, matched to other tools' accounts by their domain. */
    accounts: accountsSpec.optional(),
    /** The system the files were exported from, so their ids match that tool's (`shopify`); default `file`. */
    source: z.string().min(1).default('file'),
    /** Records per page; a checkpoint follows each page. */
    pageSize: z.number().int().positive().default(1000),
  })
  .refine((config) => config.contacts !== undefined || config.events !== undefined || config.accounts !== undefined, {
    message: 'name a contacts file, an events file, an accounts file, or several',
  });

export type FileConfig = z.infer<typeof spec>;
export type ContactsFile = z.infer<typeof contactsSpec>;
export type EventsFile = z.infer<typeof eventsSpec>;
export type AccountsFile = z.infer<typeof accountsSpec>;
