import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingRow, charToKeysym, parseModifiers, resolveKey, XK } from '../../src/input/keysyms.js';

describe('DOM key values → X keysyms (pure)', () => {
  it('characters: Latin-1 is its own keysym, others 0x1000000 + code point, control characters by name', () => {
    assert.equal(charToKeysym('a'), 0x61);
    assert.equal(charToKeysym('é'), 0xe9);
    assert.equal(charToKeysym('€'), 0x10020ac);
    assert.equal(charToKeysym('😀'), 0x1000000 + 0x1f600);
    assert.equal(charToKeysym('\n'), XK.Return);
    assert.equal(charToKeysym('\u0001'), null);
    assert.equal(charToKeysym('ab'), null);
  });

  it('named keys, left/right by code, then code, then key_code', () => {
    assert.deepEqual(resolveKey('Enter', undefined, undefined), { keysym: XK.Return, symbol: false });
    assert.deepEqual(resolveKey('Enter', 'NumpadEnter', 13), { keysym: XK.KP_Enter, symbol: false });
    assert.deepEqual(resolveKey('Shift', 'ShiftRight', 16), { keysym: XK.Shift_R, symbol: false });
    assert.deepEqual(resolveKey('Meta', undefined, 91), { keysym: XK.Super_L, symbol: false });
    assert.deepEqual(resolveKey('F12', undefined, undefined), { keysym: XK.F1 + 11, symbol: false });
    assert.deepEqual(resolveKey('!', 'Digit1', 49), { keysym: 0x21, symbol: true });
    assert.deepEqual(resolveKey('Dead', 'Quote', 222), { keysym: 0x27, symbol: false });
    assert.deepEqual(resolveKey('Unidentified', undefined, 65), { keysym: 0x61, symbol: false });
    assert.deepEqual(resolveKey(undefined, undefined, 112), { keysym: XK.F1, symbol: false });
    assert.equal(resolveKey('Unidentified', undefined, undefined), null);
    assert.equal(resolveKey(undefined, undefined, 255), null);
  });

  it('binds a letter with its other case, anything else alone', () => {
    assert.deepEqual(bindingRow(0x1000436), [0x1000436, 0x1000416]); // ж Ж
    assert.deepEqual(bindingRow(0x1000416), [0x1000436, 0x1000416]);
    assert.deepEqual(bindingRow(0xe9), [0xe9, 0xc9]); // é É
    assert.deepEqual(bindingRow(0xdf), [0xdf, 0xdf]); // ß: its upper case is two letters
    assert.deepEqual(bindingRow(0x10020ac), [0x10020ac, 0x10020ac]);
    assert.deepEqual(bindingRow(0x1008ff13), [0x1008ff13, 0x1008ff13]);
  });

  it('modifiers: the seed array form, aliases, the object form, absent = no information', () => {
    assert.deepEqual([...(parseModifiers(['shift', 'ctrl']) ?? [])], ['shift', 'ctrl']);
    assert.deepEqual([...(parseModifiers(['Control', 'OS', 'unknown']) ?? [])], ['ctrl', 'meta']);
    assert.deepEqual([...(parseModifiers({ shift: true, alt: false, meta: true }) ?? [])], ['shift', 'meta']);
    assert.deepEqual([...(parseModifiers([]) ?? [])], []);
    assert.equal(parseModifiers(undefined), null);
  });
});
