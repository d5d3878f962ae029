/**
 * fast-check's binary string unit, `webQueryParameters()` and `webUrl()`, rebuilt from its public API so that they
 * generate the very same values from the same seed, but without the cost of the originals: fast-check's `'binary'`
 * unit maps a choice index to any of the 1,112,064 code points, and the first string of that unit it makes (every
 * `webQueryParameters()` and `webUrl()` makes one, for their percent-encoded characters) builds the reverse of that
 * mapping as a Map of 1.1 million entries, only to check that its built-in "dangerous strings" (`__proto__`,
 * `constructor`, …) can be made of such characters: about two seconds of CPU in each test process that uses one.
 * Here the reverse is arithmetic.
 *
 * Mirrors fast-check 4 (src/arbitrary/string.ts, _internals/StringUnitArbitrary.ts, webUrl.ts, webPath.ts,
 * webSegment.ts, webQueryParameters.ts, _internals/builders/CharacterRangeArbitraryBuilder.ts). Compared with
 * fast-check 4.10.2's own (`fc.sample` of each, as the fuzz file uses them): the same 20,000 values from each of
 * three seeds, the same shrunk counterexample of a failing property, the same `canShrinkWithoutContext` answers.
 * No test repeats the comparison, which would cost the very build this file avoids.
 *
 * @see https://fast-check.dev/docs/core-blocks/arbitraries/primitives/string/
 * @see https://fast-check.dev/docs/core-blocks/arbitraries/fake-data/internet/
 */
import fc from 'fast-check';

/** The surrogates, which no code point of the unit is (fast-check's `fullAlphabetRanges`). */
const SURROGATES_START = 0xd800;
const SURROGATES_LENGTH = 0x800;

/** The choice index of a one-code-point string, as fast-check's reverse mapping gives it; throws for any other. */
function binaryIndexOf(value: unknown): number {
  if (typeof value !== 'string') throw new Error('not a string');
  const cp = value.codePointAt(0);
  if (cp === undefined || value.length !== (cp > 0xffff ? 2 : 1)) throw new Error('not one code point');
  if (cp >= SURROGATES_START && cp < SURROGATES_START + SURROGATES_LENGTH) throw new Error('a lone surrogate');
  return cp < SURROGATES_START ? cp : cp - SURROGATES_LENGTH;
}

/** `string({ unit: 'binary' })`'s unit: any code point but a surrogate, the lower ones drawn more often. */
export const binaryChar: fc.Arbitrary<string> = fc.nat({ max: 0x10ffff - SURROGATES_LENGTH }).map(
  (i) => String.fromCodePoint(i < SURROGATES_START ? i : i + SURROGATES_LENGTH),
  (value) => binaryIndexOf(value),
);

/** fast-check's `percentCharArb`: one code point, percent-encoded. */
const percentChar = fc.string({ unit: binaryChar, minLength: 1, maxLength: 1 }).map(
  (c) => {
    const encoded = encodeURIComponent(c);
    return c !== encoded ? encoded : `%${c.charCodeAt(0).toString(16)}`;
  },
  (value) => {
    if (typeof value !== 'string') throw new Error('Unsupported');
    return decodeURIComponent(value);
  },
);

const letters = (from: string) => ({ num: 26, build: (v: number) => String.fromCharCode(v + from.charCodeAt(0)) });

/** fast-check's `getOrCreateAlphaNumericPercentArbitrary(others)`. */
function alphaNumericPercent(others: string): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.mapToConstant(
        letters('a'),
        letters('A'),
        { num: 10, build: (v) => String.fromCharCode(v + 48) },
        { num: others.length, build: (v) => others[v]! },
      ),
    },
    { weight: 1, arbitrary: percentChar },
  );
}

const queryUnit = alphaNumericPercent("-._~!$&'()*+,;=:@/?");
const segmentUnit = alphaNumericPercent("-._~!$&'()*+,;=:@");

/** `fc.webQueryParameters()` (default size). */
export function webQueryParameters(): fc.Arbitrary<string> {
  return fc.string({ unit: queryUnit });
}

/** fast-check's `buildUriPathArbitraryInternal`. */
function path(segmentSize: fc.Size, numSegmentSize: fc.Size): fc.Arbitrary<string> {
  return fc.array(fc.string({ unit: segmentUnit, size: segmentSize }), { size: numSegmentSize }).map(
    (segments) => segments.map((s) => `/${s}`).join(''),
    (value) => {
      if (typeof value !== 'string') throw new Error('Incompatible value received: type');
      if (value.length !== 0 && value[0] !== '/') throw new Error('Incompatible value received: start');
      return value.split('/').slice(1);
    },
  );
}

const URL_PARTS =
  /^([[A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*)?(#[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*)?$/;

/**
 * `fc.webUrl()` with its defaults (the default `small` size, no query, no fragment): `http` or `https`, a domain,
 * then `webPath({ size: 'small' })`, made of segments of size `small` and `xsmall`.
 */
export function webUrl(): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom<string>('http', 'https'),
      fc.webAuthority({ size: 'small' }),
      fc.oneof(path('small', 'xsmall'), path('xsmall', 'small')),
      fc.constant<string | null>(null),
      fc.constant<string | null>(null),
    )
    .map(
      ([scheme, authority, p]) => `${scheme}://${authority}${p}`,
      (value) => {
        const m = typeof value === 'string' ? URL_PARTS.exec(value) : null;
        if (m === null) throw new Error('Incompatible value received');
        return [
          m[1]!,
          m[2]!,
          m[3]!,
          m[4] !== undefined ? m[4].substring(1) : null,
          m[5] !== undefined ? m[5].substring(1) : null,
        ];
      },
    );
}
