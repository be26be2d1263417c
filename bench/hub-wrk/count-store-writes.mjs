/**
 * Preloaded into `edgepush hub` by bench/hub-wrk.bench.ts (node --import): counts lmdb write
 * transactions (each one commit; with --sync flush, one fsync wait) and the puts/removes in
 * them, and writes the totals to $EDGEPUSH_WRITE_COUNTS when the hub exits. Bench only.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The CJS exports object the hub bundle's require('lmdb') gets.
const lmdb = createRequire(import.meta.url)('lmdb');
const counts = { transactions: 0, puts: 0, removes: 0 };

function countOps(db) {
  for (const [name, key] of [
    ['put', 'puts'],
    ['remove', 'removes'],
  ]) {
    const orig = db[name];
    db[name] = function (...args) {
      counts[key]++;
      return orig.apply(this, args);
    };
  }
}

const open = lmdb.open;
lmdb.open = function (...args) {
  const root = open.apply(this, args);
  const transaction = root.transaction;
  root.transaction = function (...a) {
    counts.transactions++;
    return transaction.apply(this, a);
  };
  const openDB = root.openDB;
  root.openDB = function (...a) {
    const db = openDB.apply(this, a);
    countOps(db);
    return db;
  };
  countOps(root);
  return root;
};

process.on('exit', () => {
  if (process.env.EDGEPUSH_WRITE_COUNTS) writeFileSync(process.env.EDGEPUSH_WRITE_COUNTS, JSON.stringify(counts));
});
