// The scanner's offline queue: vouchers a clerk redeemed while the server could not be
// reached, kept in IndexedDB (database "xinyou-scanner", store "scans") until they are
// uploaded to POST /api/v1/merchant/redemptions/batch; then each row keeps its outcome.
//
// A row: {nonce, merchantId, voucherKey: "<merchant>:<voucher id>", token, device_id,
// scanned_at (ISO), title, state: "pending" | "synced", outcome, redeemed_at}.
// "Not already redeemed on this device" is one read-then-add inside one IndexedDB
// transaction, so two quick scans of one QR cannot both be queued.

const DB_NAME = "xinyou-scanner";
const STORE = "scans";
const DEVICE_KEY = "xinyou.scanner.device";
const KEEP_SYNCED_MS = 7 * 24 * 3600 * 1000;

let opening = null;

function openDb() {
  opening ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: "nonce" });
      store.createIndex("voucherKey", "voucherKey", { unique: false });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
  });
  return opening;
}

/** Run `work(store, done)` in one transaction; resolves with what `done` was given. */
async function inTransaction(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
    work(tx.objectStore(STORE), (value) => {
      result = value;
    });
  });
}

function randomHex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This browser's stable scanner id (printable ASCII, kept in localStorage). */
export function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${randomHex(8)}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

/** Queue a voucher redeemed offline, unless this device already has it:
 * → {row} (queued) or {duplicate: the earlier row}. */
export function queueRedemption({ token, merchantId, voucherId, title }) {
  const voucherKey = `${merchantId}:${voucherId}`;
  const row = {
    nonce: `${deviceId()}-${Date.now().toString(36)}-${randomHex(6)}`,
    merchantId,
    voucherKey,
    token,
    title: title || "",
    device_id: deviceId(),
    scanned_at: new Date().toISOString(),
    state: "pending",
    outcome: null,
    redeemed_at: null,
  };
  return inTransaction("readwrite", (store, done) => {
    const lookup = store.index("voucherKey").getAll(voucherKey);
    lookup.onsuccess = () => {
      const earlier = lookup.result.find((r) => r.outcome === null || r.outcome === "redeemed");
      if (earlier) {
        done({ duplicate: earlier });
        return;
      }
      store.add(row).onsuccess = () => done({ row });
    };
  });
}

/** Every row of this merchant, newest scan first (pending and synced). */
export function rows(merchantId) {
  return inTransaction("readonly", (store, done) => {
    const all = store.getAll();
    all.onsuccess = () =>
      done(all.result.filter((r) => r.merchantId === merchantId).sort((a, b) => b.scanned_at.localeCompare(a.scanned_at)));
  });
}

export async function pendingCount(merchantId) {
  return (await rows(merchantId)).filter((r) => r.state === "pending").length;
}

function applyResults(results) {
  return inTransaction("readwrite", (store, done) => {
    const cutoff = Date.now() - KEEP_SYNCED_MS;
    for (const result of results) {
      const get = store.get(result.nonce);
      get.onsuccess = () => {
        if (!get.result) return;
        store.put({ ...get.result, state: "synced", outcome: result.outcome, redeemed_at: result.redeemed_at });
      };
    }
    const all = store.getAll();
    all.onsuccess = () => {
      for (const r of all.result) {
        if (r.state === "synced" && Date.parse(r.scanned_at) < cutoff) store.delete(r.nonce);
      }
      done(results.length);
    };
  });
}

let syncing = null;

/** Upload this merchant's pending rows, `maxBatch` at a time. Resolves with the number of
 * rows that got an outcome; rejects (ApiError) when the server cannot be reached, leaving
 * the rest pending. The same rows may be sent again safely: the nonce decides. */
export function syncPending(api, merchantId, maxBatch = 500) {
  syncing ||= (async () => {
    let done = 0;
    for (;;) {
      const pending = (await rows(merchantId)).filter((r) => r.state === "pending").reverse();
      if (!pending.length) return done;
      const chunk = pending.slice(0, maxBatch);
      const body = {
        redemptions: chunk.map((r) => ({ token: r.token, scanned_at: r.scanned_at, device_id: r.device_id, nonce: r.nonce })),
      };
      const answer = await api.request("POST", "/merchant/redemptions/batch", { body });
      done += await applyResults(answer.results);
    }
  })().finally(() => {
    syncing = null;
  });
  return syncing;
}
