import type { SoftDigipassStore } from "@capkit/token-sim/soft-digipass";

/**
 * A `SoftDigipassStore` in the browser's IndexedDB: records are stored as they are, by structured clone, so the
 * WebCrypto keys (the device's ECDSA key, the seed's HMAC key, both generated or imported non-extractable) are
 * kept as CryptoKeys that stay non-extractable — no byte of them is ever in the page's reach. One database
 * per simulated phone (`capkit-sogesmart:<phone>`), one object store.
 */
const STORE = "records";

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class IndexedDbStore implements SoftDigipassStore {
  readonly #db: Promise<IDBDatabase>;

  constructor(name: string) {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    this.#db = request(open);
  }

  async #tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.#db;
    const tx = db.transaction(STORE, mode);
    const result = request(f(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result;
  }

  get(name: string): Promise<unknown> {
    return this.#tx("readonly", (s) => s.get(name));
  }

  async put(name: string, value: unknown): Promise<void> {
    await this.#tx("readwrite", (s) => s.put(value, name));
  }

  async delete(name: string): Promise<void> {
    await this.#tx("readwrite", (s) => s.delete(name));
  }

  /** Closes the database (an element taken off the page). */
  async close(): Promise<void> {
    (await this.#db).close();
  }
}
