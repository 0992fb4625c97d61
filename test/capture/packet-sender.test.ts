// The batch sender addon (src/capture/native/packet_sender.c) as built by `npm install`: argument
// checks and errors, without sending anything (live sending is covered by the lab tests).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSender } from '../../src/capture/packet-source.js';

const native = loadSender();

describe('packet sender addon', () => {
  it('open: a name that is no interface gives ENODEV naming it; a bad argument is a TypeError', () => {
    assert.throws(() => native.open('gh-no-such0'), (e: Error & { code?: string }) => e.code === 'ENODEV' && /gh-no-such0: No such device/.test(e.message));
    assert.throws(() => native.open(''), TypeError);
    assert.throws(() => native.open('x'.repeat(16)), TypeError, 'longer than IFNAMSIZ - 1');
    assert.throws(() => (native.open as unknown as (x: number) => void)(42), TypeError);
  });

  it('send: frame length and count are checked against the buffer before any system call', () => {
    const frames = Buffer.alloc(4 * 60);
    assert.throws(() => native.send(-1, 1, frames, 60, 5), TypeError, 'five frames do not fit in four');
    assert.throws(() => native.send(-1, 1, frames, 13, 1), TypeError, 'shorter than an Ethernet header');
    assert.throws(() => native.send(-1, 1, frames, 1515, 0), TypeError, 'longer than an Ethernet frame');
    assert.throws(() => native.send(-1, 1, frames, 60, -1), TypeError);
    assert.throws(() => (native.send as unknown as (...a: unknown[]) => number)(-1, 1, 'not a buffer', 60, 1), TypeError);
    assert.equal(native.send(-1, 1, frames, 60, 0), 0, 'nothing to send: no system call');
    assert.throws(() => native.send(-1, 1, frames, 60, 1), (e: Error & { code?: string }) => e.code === 'EBADF' && /^sendmmsg: /.test(e.message));
  });

  it('close of a descriptor that is not open does not throw', () => {
    native.close(-1);
  });
});
