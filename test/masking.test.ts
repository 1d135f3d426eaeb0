// Contact masking as an associate or an agent sees ids: phone numbers keep their first 6 and
// last 2 characters, e-mail addresses a first letter of the local part and of each domain
// label; any other id is unchanged. Short and odd values never throw and never show more.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maskEmail, maskId, maskPhone } from '../engine/mod.ts';

describe('maskId', () => {
  it('masks phone and e-mail ids as the contract shows them', () => {
    expect(maskId('phone:+4915112345600')).toBe('phone:+49151******00');
    expect(maskId('email:anna@bhf.co')).toBe('email:a***@b.c');
    expect(maskId('email:a@b.c')).toBe('email:a***@b.c');
  });

  it('keeps one star per hidden digit of a long number, and the first letter of every domain label', () => {
    expect(maskId('phone:+86138123456789')).toBe('phone:+86138*******89');
    expect(maskId('email:jane.doe@mail.example.co.uk')).toBe('email:j***@m.e.c.u');
  });

  it('leaves other ids alone, and reads the kind case-insensitively', () => {
    for (const id of ['wechat:o6_x', 'device:abc', 'c1', 'anna@bhf.co', '+4915112345600', 'loyalty:4915112345600']) expect(maskId(id)).toBe(id);
    expect(maskId('PHONE:+4915112345600')).toBe('PHONE:+49151******00');
    expect(maskId('Email:anna@bhf.co')).toBe('Email:a***@b.c');
  });

  it('stars a short number whole: head and tail would show most of it', () => {
    expect(maskPhone('+491511234')).toBe('***');
    expect(maskPhone('12345678901')).toBe('***');
    expect(maskPhone('123456789012')).toBe('123456****12');
    expect(maskId('phone:')).toBe('phone:***');
    expect(maskId('phone:1')).toBe('phone:***');
  });

  it('masks odd addresses without throwing', () => {
    expect(maskEmail('')).toBe('***');
    expect(maskEmail('anna')).toBe('a***');
    expect(maskEmail('@bhf.co')).toBe('***@b.c');
    expect(maskEmail('anna@')).toBe('a***@*');
    expect(maskEmail('anna@bhf..co')).toBe('a***@b.*.c');
    expect(maskEmail('anna@.')).toBe('a***@*.*');
    // A quoted local part may hold an @: the domain is after the last one.
    expect(maskEmail('"a@b"@bhf.co')).toBe('"***@b.c');
    // A letter outside the BMP is one character, not half of one.
    expect(maskEmail('😀x@ü.de')).toBe('😀***@ü.d');
    expect(maskPhone('😀😀😀😀😀😀😀😀😀😀😀😀')).toBe('😀😀😀😀😀😀****😀😀');
  });

  it('never throws, and shows at most 8 characters of a number (none of a short one) and one per label of an address', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (value) => {
        // Stars in the value itself would pass for masked characters.
        const chars = Array.from(value.replaceAll('*', 'x'));
        const phone = maskId(`phone:${chars.join('')}`);
        const shown = Array.from(phone.slice('phone:'.length)).filter((c) => c !== '*').length;
        expect(shown).toBeLessThanOrEqual(chars.length < 12 ? 0 : 8);

        const email = maskId(`email:${value}`);
        expect(email.startsWith('email:')).toBe(true);
        const masked = email.slice('email:'.length);
        expect(masked).toContain('***');
        const at = value.lastIndexOf('@');
        const labels = at < 0 ? 0 : Math.max(1, value.slice(at + 1).split('.').length);
        // The local part's first letter, the stars, the @, one letter per label and the dots between.
        expect(Array.from(masked).length).toBeLessThanOrEqual(1 + 3 + (at < 0 ? 0 : 1 + 2 * labels - 1));
      }),
    );
  });
});
