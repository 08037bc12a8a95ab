/**
 * Is a message written in English? A small function-word test, enough to keep the English sentiment lexicon from
 * scoring Spanish, French, German, Portuguese, Italian or Dutch (or non-Latin scripts) wrongly: such messages are
 * marked with their likely language and left unscored. Short messages with no function words at all (“Thanks!”,
 * “refund pls”) count as English, since the lexicon still reads them.
 */

/** Frequent function words, which make up a large share of any running text in their language. */
const FUNCTION_WORDS: Record<string, ReadonlySet<string>> = Object.fromEntries(
  Object.entries({
    en: 'the and is it to of my i you not was this that for with have on in are but me we be so a an at your can no still please thanks after again do did',
    es: 'el la los las de que y es en un una por para con no mi muy pero del se lo gracias está esta como ha mis nadie su al hay',
    fr: "le la les de des et est un une pas je mon ma très pour avec mais du que qui merci ne sur au nous vous n'est",
    de: 'der die das und ist nicht ich ein eine mit für sehr aber zu den dem mein meine danke auf es wir sie noch',
    pt: 'o a os as de que e é um uma não para com muito mas do da meu minha obrigado obrigada está em',
    it: 'il lo la gli le di che e è un una non per con molto ma del della mio mia grazie sono',
    nl: 'de het een en is niet ik mijn met voor zeer maar van dat die bedankt nog op wij jullie',
  }).map(([language, words]) => [language, new Set(words.split(' '))]),
);

const WORD = /\p{L}+(?:['’]\p{L}+)?/gu;
const LATIN = /\p{Script=Latin}/u;

/** A language code (ISO 639-1) or `und` when a non-Latin script cannot be named here. */
export type MessageLanguage = 'en' | 'es' | 'fr' | 'de' | 'pt' | 'it' | 'nl' | 'und';

/**
 * The message's likely language: `en` unless another language's function words clearly outnumber English ones, or
 * most letters are outside the Latin script (`und`).
 * @example
 * detectLanguage('The export is broken again'); // 'en'
 * detectLanguage('El pedido no ha llegado y nadie responde'); // 'es'
 */
export function detectLanguage(text: string): MessageLanguage {
  const words = (text.toLowerCase().match(WORD) ?? []).map((word) => word.replace('’', "'"));
  if (words.length === 0) return 'en';
  let latin = 0;
  for (const word of words) if (LATIN.test(word)) latin++;
  if (latin / words.length < 0.5) return 'und';
  // A word listed for English and another language (a, no, is, de) is evidence for neither of the two.
  const english = FUNCTION_WORDS.en ?? new Set<string>();
  let best: MessageLanguage = 'en';
  let bestCount = 0;
  let englishCount = 0;
  for (const [language, set] of Object.entries(FUNCTION_WORDS)) {
    if (language === 'en') continue;
    let own = 0;
    let theirs = 0;
    for (const word of words) {
      if (set.has(word) && !english.has(word)) own++;
      else if (english.has(word) && !set.has(word)) theirs++;
    }
    if (own > bestCount) {
      best = language as MessageLanguage;
      bestCount = own;
      englishCount = theirs;
    }
  }
  return bestCount >= 2 && bestCount > englishCount ? best : 'en';
}
