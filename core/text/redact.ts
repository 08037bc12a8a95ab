/**
 * Redaction of message text kept in the store: email addresses, phone numbers and card-like numbers (13–19 digits
 * passing the Luhn check) are replaced by a bracketed tag, so a kept ticket can be read without handing out contact
 * or payment details.
 */

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
const DIGIT_RUN = /(?<![\p{L}\p{N}])\+?\d[\d ().-]{6,}\d(?![\p{L}\p{N}])/gu;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * @example
 * redactText('Call me on +44 20 7946 0958 or mail ann@example.com'); // 'Call me on [phone] or mail [email]'
 */
export function redactText(text: string): string {
  return text.replace(EMAIL, '[email]').replace(DIGIT_RUN, (run) => {
    const digits = run.replace(/\D/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) return '[card]';
    // Order numbers and dates are shorter or shaped differently; 8–15 digits with phone punctuation read as a phone.
    if (digits.length >= 8 && digits.length <= 15) return '[phone]';
    return run;
  });
}
