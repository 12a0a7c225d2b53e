const dist = (p) => import(new URL(`./dist/${p}`, import.meta.url).href);
const { LogStore } = await dist('storage/store.js');
const { entryKey } = await dist('storage/layout.js');
const s = await LogStore.open('/tmp/prof-big/log');
let t0 = performance.now();
for (let k = 0; k < 195; k++) await s.readEntries(k*256, 256);
console.log('for-await', (195*256/((performance.now()-t0)/1000)).toFixed(0));
t0 = performance.now();
for (let k = 0; k < 195; k++) await s.db.values({ gte: entryKey(k*256), lt: entryKey(k*256+256) }).all();
console.log('all()', (195*256/((performance.now()-t0)/1000)).toFixed(0));
t0 = performance.now();
for (let k = 0; k < 195; k++) { const it = s.db.values({ gte: entryKey(k*256), lt: entryKey(k*256+256) }); await it.nextv(256); await it.close(); }
console.log('nextv', (195*256/((performance.now()-t0)/1000)).toFixed(0));
await s.close();
