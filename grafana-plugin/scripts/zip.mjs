// Writes a zip of one folder, keeping Unix file modes (the backend binary must stay
// executable), so the build needs no `zip` program. Entries are stored under the folder's
// own name, as Grafana's plugin packaging wants (<plugin-id>/plugin.json ...).
// Usage: node zip.mjs OUT.zip DIR
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** DOS date and time fields of a Date (local time, 2-second resolution). */
function dosTime(d) {
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2);
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return { time, date };
}

function walk(dir, base) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const rel = `${base}/${name}`;
    const st = statSync(full);
    if (st.isDirectory()) out.push({ rel: `${rel}/`, st }, ...walk(full, rel));
    else out.push({ rel, st, full });
  }
  return out;
}

const [outPath, dir] = process.argv.slice(2);
if (!outPath || !dir) {
  console.error('usage: zip.mjs OUT.zip DIR');
  process.exit(2);
}
const root = path.basename(path.resolve(dir));
const entries = [{ rel: `${root}/`, st: statSync(dir) }, ...walk(dir, root)];

const chunks = [];
const central = [];
let offset = 0;
for (const e of entries) {
  const name = Buffer.from(e.rel, 'utf8');
  const data = e.full ? readFileSync(e.full) : Buffer.alloc(0);
  const packed = e.full ? deflateRawSync(data, { level: 9 }) : data;
  const method = e.full ? 8 : 0;
  const crc = crc32(data);
  const { time, date } = dosTime(e.st.mtime);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
  local.writeUInt16LE(0x0800, 6); // names are UTF-8
  local.writeUInt16LE(method, 8);
  local.writeUInt16LE(time, 10);
  local.writeUInt16LE(date, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(packed.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  chunks.push(local, name, packed);

  const cd = Buffer.alloc(46);
  cd.writeUInt32LE(0x02014b50, 0);
  cd.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode below counts
  cd.writeUInt16LE(20, 6);
  cd.writeUInt16LE(0x0800, 8);
  cd.writeUInt16LE(method, 10);
  cd.writeUInt16LE(time, 12);
  cd.writeUInt16LE(date, 14);
  cd.writeUInt32LE(crc, 16);
  cd.writeUInt32LE(packed.length, 20);
  cd.writeUInt32LE(data.length, 24);
  cd.writeUInt16LE(name.length, 28);
  const mode = e.full ? (e.st.mode & 0o777) | 0o100000 : 0o40755;
  cd.writeUInt32LE(((mode << 16) | (e.full ? 0 : 0x10)) >>> 0, 38); // Unix mode; MS-DOS dir bit
  cd.writeUInt32LE(offset, 42);
  central.push(cd, name);
  offset += local.length + name.length + packed.length;
}
const cdSize = central.reduce((n, b) => n + b.length, 0);
const end = Buffer.alloc(22);
end.writeUInt32LE(0x06054b50, 0);
end.writeUInt16LE(entries.length, 8);
end.writeUInt16LE(entries.length, 10);
end.writeUInt32LE(cdSize, 12);
end.writeUInt32LE(offset, 16);
writeFileSync(outPath, Buffer.concat([...chunks, ...central, end]));
console.log(`${outPath}: ${entries.length} entries`);
