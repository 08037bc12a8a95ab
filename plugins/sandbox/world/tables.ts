/**
 * The word lists the world draws identities from. All domains are reserved (`example.com`, `.example`) so no
 * synthetic address can ever reach a real mailbox.
 */

// prettier-ignore
export const FEMALE_NAMES = [
  'Ada', 'Grace', 'Maria', 'Sofia', 'Emma', 'Olivia', 'Amara', 'Chloe', 'Ines', 'Hana', 'Leila', 'Freya', 'Nora',
  'Elena', 'Priya', 'Mei', 'Zara', 'Lucia', 'Anna', 'Julia', 'Marta', 'Aisha', 'Clara', 'Yuki', 'Ingrid', 'Rosa',
] as const;

// prettier-ignore
export const MALE_NAMES = [
  'Alan', 'Liam', 'Noah', 'Lucas', 'Mateo', 'Omar', 'Kenji', 'Arjun', 'Felix', 'Hugo', 'Jonas', 'Luca', 'Diego',
  'Ivan', 'Tomas', 'Ethan', 'Samuel', 'Rafael', 'Karim', 'Oscar', 'Leon', 'Marco', 'Niels', 'Pedro', 'Theo', 'Wei',
] as const;

export const NONBINARY_NAMES = ['Alex', 'Sam', 'Robin', 'Charlie', 'Jordan', 'Kai', 'Noor', 'Sasha'] as const;

// prettier-ignore
export const LAST_NAMES = [
  'Lovelace', 'Hopper', 'Turing', 'Garcia', 'Smith', 'Müller', 'Rossi', 'Dubois', 'Silva', 'Kowalski', 'Nakamura',
  'Patel', 'Okafor', 'Andersen', 'Novak', 'Fernandez', 'Haddad', 'Kim', 'Chen', 'Larsen', 'Moreau', 'Costa',
  'Jansen', 'Ivanova', "O'Brien", 'Santos', 'Weber', 'Nguyen', 'Hansen', 'Lopez', 'Schmidt', 'Yilmaz',
] as const;

/** Countries with cities, phone country code and the currency their orders are in. */
// prettier-ignore
export const PLACES = [
  { country: 'United States', code: 'US', cities: ['New York', 'Austin', 'Seattle', 'Chicago'], dial: '1', currency: 'USD', weight: 30 },
  { country: 'United Kingdom', code: 'GB', cities: ['London', 'Manchester', 'Leeds'], dial: '44', currency: 'GBP', weight: 14 },
  { country: 'Germany', code: 'DE', cities: ['Berlin', 'Munich', 'Hamburg'], dial: '49', currency: 'EUR', weight: 12 },
  { country: 'France', code: 'FR', cities: ['Paris', 'Lyon', 'Nantes'], dial: '33', currency: 'EUR', weight: 10 },
  { country: 'Spain', code: 'ES', cities: ['Madrid', 'Barcelona', 'Valencia'], dial: '34', currency: 'EUR', weight: 7 },
  { country: 'Netherlands', code: 'NL', cities: ['Amsterdam', 'Rotterdam', 'Utrecht'], dial: '31', currency: 'EUR', weight: 6 },
  { country: 'Canada', code: 'CA', cities: ['Toronto', 'Montreal', 'Vancouver'], dial: '1', currency: 'CAD', weight: 7 },
  { country: 'Brazil', code: 'BR', cities: ['São Paulo', 'Rio de Janeiro', 'Curitiba'], dial: '55', currency: 'BRL', weight: 5 },
  { country: 'India', code: 'IN', cities: ['Bengaluru', 'Mumbai', 'Pune'], dial: '91', currency: 'INR', weight: 5 },
  { country: 'Japan', code: 'JP', cities: ['Tokyo', 'Osaka', 'Fukuoka'], dial: '81', currency: 'JPY', weight: 4 },
] as const;

// prettier-ignore
export const COMPANY_WORDS_A = [
  'Bright', 'North', 'Blue', 'Silver', 'Green', 'Rapid', 'Clear', 'Iron', 'Bold', 'Quiet', 'Swift', 'Golden',
  'Red', 'Open', 'True', 'Deep',
] as const;

// prettier-ignore
export const COMPANY_WORDS_B = [
  'lake', 'field', 'stone', 'wave', 'peak', 'forge', 'harbor', 'leaf', 'bridge', 'spark', 'path', 'grove', 'works',
  'labs', 'point', 'ridge',
] as const;

export const COMPANY_SUFFIXES = ['Inc.', 'Ltd', 'GmbH', 'SA', 'BV', 'LLC', 'Group', 'Co.'] as const;

export const CONSUMER_DOMAINS = ['example.com', 'example.net', 'example.org'] as const;

// prettier-ignore
export const B2B_TITLES = [
  'Head of Marketing', 'Marketing Manager', 'CMO', 'VP Sales', 'Sales Director', 'CTO', 'Operations Manager',
  'Growth Lead', 'CRM Specialist', 'Founder', 'Procurement Manager', 'Data Analyst',
] as const;

// prettier-ignore
export const CONSUMER_TITLES = [
  'Teacher', 'Nurse', 'Engineer', 'Designer', 'Student', 'Accountant', 'Chef', 'Architect', 'Writer', 'Pharmacist',
  'Retired', 'Consultant',
] as const;

export const CATEGORIES = ['apparel', 'electronics', 'home', 'beauty', 'sports', 'books', 'toys', 'grocery'] as const;

export const PAGES = [
  '/',
  '/pricing',
  '/products',
  '/blog',
  '/sale',
  '/docs',
  '/cart',
  '/account',
  '/contact',
] as const;

// prettier-ignore
export const TICKET_SUBJECTS = [
  'Where is my order?', 'Refund request', 'Cannot log in', 'Invoice question', 'Product arrived damaged',
  'Change delivery address', 'Discount code not working', 'Cancel subscription',
] as const;

export const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;
export const AGE_BAND_WEIGHTS = [12, 26, 24, 18, 12, 8] as const;

export const GENDERS = ['female', 'male', 'nonbinary'] as const;
export const GENDER_WEIGHTS = [49, 49, 2] as const;
