package lease

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// The write-ahead log of a deferred Bolt (group commit). Profiling showed
// a bbolt commit costing two fsyncs and a rewrite of every B+tree page a
// batch touches (a 64-binding batch into a 10k-binding file: ~3 ms); an
// append of the batch's records to a log file and one fdatasync costs a
// fraction of that and does not grow with the file. The log is folded into
// the bbolt file (a checkpoint) in the background when it grows past
// walLimit, at Close, and at every open, so that the bbolt file plus its
// log always hold every synced change, and OpenBolt alone reads them back.
//
// Files: PATH.wal (the log being written) and PATH.wal.old (a log being
// checkpointed; replayed first). A log starts with walMagic and the bbolt
// file's random ID (meta bucket, "id"): a log left beside a file that was
// deleted and created anew (a lab wiping a server's state removes only
// PATH) belongs to another file and is discarded, not replayed. Frame: payload length (4 bytes, big
// endian), CRC-32C of the payload (4), payload: records, each an op byte
// (walPut or walDelete), the key's length (2) and key (encodeKey), and for
// walPut the record (encodeBinding, whose tail says its length). Replay stops at the first frame that
// is short or fails its CRC: a torn tail from a crash in the middle of a
// write, whose changes no caller was told were synced.

const (
	walSuffix    = ".wal"
	walOldSuffix = ".wal.old"
	walPut       = 1
	walDelete    = 2
	walHeader    = 8          // a frame's: length and CRC
	walMagic     = "d6labWL2" // the record layout of boltFormat 2
	fileIDLen    = 16
	walStart     = len(walMagic) + fileIDLen // the log's header
)

// minLogRecord is the smallest record a log can hold: a delete of a key
// with a one-byte DUID (op, key length, key).
const minLogRecord = 1 + 2 + 6

// walLimit is the log size past which a Sync starts a checkpoint.
var walLimit int64 = 64 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type wal struct {
	f       *os.File
	size    int64  // end of the last frame
	zeros   int64  // end of the zeros written ahead of it
	flush   bool   // fdatasync after each frame (OnDisk)
	flushed uint64 // fdatasyncs done (tests)
}

// walChunk is how far ahead of the frames the log is filled with zeros.
// Measured here (ext4): an fdatasync after overwriting blocks already
// written costs a third of one after an append, which must also commit
// the new file size and block allocation to the journal. A zero length
// ends replay, so the zeros read as the log's end.
const walChunk = 1 << 20

var zeroChunk = make([]byte, walChunk)

// openWAL creates an empty log for the bbolt file with ID id: zeros, then
// the header (made durable by the first frame's fdatasync, with flush; by
// the kernel's writeback without).
func openWAL(path string, id []byte, flush bool) (*wal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	hdr := append([]byte(walMagic), id...)
	if _, err := f.WriteAt(zeroChunk, 0); err != nil {
		_ = f.Close()
		return nil, err
	}
	if _, err := f.WriteAt(hdr, 0); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &wal{f: f, size: int64(len(hdr)), zeros: walChunk, flush: flush}, nil
}

// batch is the changes queued for the next Sync, as the records of the
// log's next frame in chunks of batchChunk bytes: the first starts with
// the frame's header (filled in by wal.append), and no record spans two.
// A batch grows by a chunk and never copies what it holds: one frame in
// one slice, grown by append, was copied at each doubling (43 ns a change
// in BenchmarkRenew/durable, where a Sync behind a checkpoint lets the
// batch grow to megabytes). A written batch's chunks serve the next one
// (reuse).
type batch struct {
	chunks [][]byte
	n      int      // changes
	spare  [][]byte // empty chunks for room to take
}

const batchChunk = 64 << 10

// put appends the record of x's key bound to x.
func (q *batch) put(x *Binding) {
	k := KeyView(x.DUID, x.IAID, x.Type)
	c := q.room(3 + 5 + len(k.DUID) + recordSize(x))
	q.chunks[len(q.chunks)-1] = appendRecord(appendKeyOf(c, walPut, k), x)
	q.n++
}

// del appends the record of k's deletion.
func (q *batch) del(k Key) {
	c := q.room(3 + 5 + len(k.DUID))
	q.chunks[len(q.chunks)-1] = appendKeyOf(c, walDelete, k)
	q.n++
}

// room returns the last chunk, with at least need bytes free: a spare
// one, or a new one, when the last has less.
func (q *batch) room(need int) []byte {
	if k := len(q.chunks); k > 0 {
		if c := q.chunks[k-1]; cap(c)-len(c) >= need {
			return c
		}
	}
	var c []byte
	if k := len(q.spare); k > 0 && need+walHeader <= batchChunk {
		c, q.spare = q.spare[k-1], q.spare[:k-1]
	} else {
		c = make([]byte, 0, max(batchChunk, need+walHeader))
	}
	if len(q.chunks) == 0 {
		c = c[:walHeader]
	}
	q.chunks = append(q.chunks, c)
	return c
}

// records calls fn for each record in order (applyRecords).
func (q *batch) records(fn func(op byte, key, val []byte) error) error {
	for i, c := range q.chunks {
		if i == 0 {
			c = c[walHeader:]
		}
		if _, err := applyRecords(c, fn); err != nil {
			return err
		}
	}
	return nil
}

// reuse takes the chunks of a written batch w as spares (those of the
// standard size), and empties w.
func (q *batch) reuse(w *batch) {
	for _, c := range w.chunks {
		if cap(c) == batchChunk {
			q.spare = append(q.spare, c[:0])
		}
	}
	clear(w.chunks)
	w.chunks, w.n = w.chunks[:0], 0
}

// appendKeyOf appends a record's start: op, the key's length and key.
func appendKeyOf(frame []byte, op byte, k Key) []byte {
	frame = append(frame, op)
	frame = binary.BigEndian.AppendUint16(frame, uint16(5+len(k.DUID)))
	return appendKey(frame, k)
}

// append fills in the header of q's frame (q holds one change or more),
// writes it after the last frame and, with flush, fdatasyncs the log. (A key changed twice is written
// twice: replay keeps the last.)
func (w *wal) append(q *batch) error {
	size, crc := 0, uint32(0)
	for i, c := range q.chunks {
		if i == 0 {
			c = c[walHeader:]
		}
		size += len(c)
		crc = crc32.Update(crc, crcTable, c)
	}
	binary.BigEndian.PutUint32(q.chunks[0][0:], uint32(size))
	binary.BigEndian.PutUint32(q.chunks[0][4:], crc)
	end := w.size + int64(walHeader+size)
	for end > w.zeros {
		if _, err := w.f.WriteAt(zeroChunk, w.zeros); err != nil {
			return fmt.Errorf("extend log: %w", err)
		}
		w.zeros += walChunk
	}
	at := w.size
	for _, c := range q.chunks {
		if _, err := w.f.WriteAt(c, at); err != nil {
			return fmt.Errorf("write log: %w", err)
		}
		at += int64(len(c))
	}
	if w.flush {
		if err := fdatasync(w.f); err != nil {
			return fmt.Errorf("fdatasync log: %w", err)
		}
		w.flushed++
	}
	w.size = end
	return nil
}

func (w *wal) close() error { return w.f.Close() }

// replayLogs applies PATH.wal.old and then PATH.wal, if they belong to
// the bbolt file with ID id, to that file (foldLogs), and removes
// them. It returns how many records it applied.
func replayLogs(db *bolt.DB, path string, id []byte) (int, error) {
	return foldLogs(db, id, 0, 0, path+walOldSuffix, path+walSuffix)
}

// readLog returns the frames of the log at path (nil when there is none,
// or it belongs to another bbolt file than the one with ID id, or was torn
// before its first frame).
func readLog(path string, id []byte) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return logFrames(b, id), nil
}

// logFrames returns the frames of a log's contents b (readLog), or nil.
func logFrames(b, id []byte) []byte {
	if len(b) < walStart || string(b[:len(walMagic)]) != walMagic || string(b[len(walMagic):walStart]) != string(id) {
		return nil
	}
	return b[walStart:]
}

// foldLogs applies the logs at paths, in that order, that belong to the
// bbolt file with ID id (logFrames), to that file (the last state of each
// key, applySorted), then removes them all and makes the removal
// durable. It returns how many records it applied. This is a checkpoint,
// and the replay of what a stopped process left. keys, when not 0, is
// about how many distinct keys the logs hold at most (the bindings the
// cache holds): a size hint. tx is the most records a transaction writes
// (applySorted): foldTx for a checkpoint beside a serving store, 0 (one
// transaction) at open and close, where a transaction's fsyncs would only
// delay the server's start or exit.
func foldLogs(db *bolt.DB, id []byte, keys, tx int, paths ...string) (int, error) {
	// Mapped, not read onto the heap: a checkpoint's 64 MiB copy made the
	// collector run for it; the records point into the mappings until the
	// transaction that writes them has committed.
	logs := make([][]byte, 0, len(paths))
	size := 0
	for _, p := range paths {
		frames, release, err := mapLog(p, id)
		if err != nil {
			return 0, err
		}
		defer release()
		logs = append(logs, frames)
		size += len(frames)
	}
	// The last state of each key: recs[at[key]], sized for the smaller of
	// keys and the most records the logs can hold (unsized without keys).
	// The map's keys are the log's own bytes, not copies (a log of
	// renewals holds each key many times, and a copy of each was one
	// allocation a binding a checkpoint): they stay valid, like the
	// records, until release.
	if most := size / minLogRecord; keys > most {
		keys = most
	}
	at := make(map[string]int, keys)
	recs := make([]walRecord, 0, keys)
	n, read := 0, 0
	for _, frames := range logs {
		k, err := applyFrames(frames, func(op byte, key, val []byte) error {
			read++
			yield(read)
			r := walRecord{key: key, val: val, op: op}
			k := unsafe.String(unsafe.SliceData(key), len(key))
			if i, ok := at[k]; ok {
				recs[i] = r
			} else {
				at[k] = len(recs)
				recs = append(recs, r)
			}
			return nil
		})
		n += k
		if err != nil {
			return n, fmt.Errorf("replay log: %w", err)
		}
	}
	if len(recs) > 0 {
		if err := applySorted(db, recs, tx); err != nil {
			return n, fmt.Errorf("replay log: %w", err)
		}
	}
	removed := false
	for _, p := range paths {
		err := os.Remove(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		removed = removed || err == nil
	}
	if !removed {
		return n, nil
	}
	return n, syncDir(filepath.Dir(paths[0]))
}

// yield lets other goroutines run every yieldEvery steps of a fold. A
// checkpoint runs beside the server it belongs to, often on the same P
// (`d6lab serve --procs 1`): without it, Go's scheduler let the fold hold
// the P for its 10 ms time slices while the handler waited with
// datagrams to read (measured, `d6lab bench --rate 50000 --duration
// 30s`, two folds a run: p99.9 49-67 ms without, 29-33 ms with this and
// foldTx).
func yield(step int) {
	if step%yieldEvery == yieldEvery-1 {
		runtime.Gosched()
	}
}

// yieldEvery is about 50 µs of a fold's work.
const yieldEvery = 1024

// walRecord is one key's change: a put of val or a delete.
type walRecord struct {
	key, val []byte
	op       byte
}

// applySorted writes recs to the bindings bucket in key order, in
// transactions of at most tx records (all in one when tx is 0), yielding
// between them (yield): one transaction's commit is work nothing else on
// the P could interrupt but the scheduler's 10 ms slice. (A fold applied
// in part is applied again whole: its logs are removed only after the
// last transaction, and a reopen replays them. Profiled: bbolt inserts into one in-memory node
// per leaf until the commit splits it, so keys in random order cost a
// memmove of the node each, quadratic in a checkpoint's size; in order
// they append.)
func applySorted(db *bolt.DB, recs []walRecord, tx int) error {
	if tx <= 0 {
		tx = len(recs)
	}
	compared := 0
	slices.SortFunc(recs, func(a, b walRecord) int {
		compared++
		yield(compared)
		return bytes.Compare(a.key, b.key)
	})
	for len(recs) > 0 {
		chunk := recs[:min(len(recs), tx)]
		recs = recs[len(chunk):]
		err := db.Update(func(tx *bolt.Tx) error {
			bs, err := tx.CreateBucketIfNotExists(bucketBindings)
			if err != nil {
				return err
			}
			for i, r := range chunk {
				yield(i)
				if r.op == walDelete {
					err = bs.Delete(r.key)
				} else {
					err = bs.Put(r.key, r.val)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		runtime.Gosched()
	}
	return nil
}

// foldTx is the most records one transaction of a checkpoint writes (a
// variable for the specs).
var foldTx = 4096

// fileID returns the bbolt file's random ID, creating it on a file that
// has none.
func fileID(db *bolt.DB) ([]byte, error) {
	var id []byte
	err := db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(metaID); len(v) == fileIDLen {
			id = append([]byte(nil), v...)
			return nil
		}
		id = make([]byte, fileIDLen)
		if _, err := rand.Read(id); err != nil {
			return err
		}
		return meta.Put(metaID, id)
	})
	return id, err
}

// applyFrames calls fn for each record of each whole, intact frame of b.
// The slices passed to fn stay valid (they are b's).
func applyFrames(b []byte, fn func(op byte, key, val []byte) error) (int, error) {
	n := 0
	for len(b) >= walHeader {
		size := int(binary.BigEndian.Uint32(b[0:]))
		if size == 0 || walHeader+size > len(b) || crc32.Checksum(b[walHeader:walHeader+size], crcTable) != binary.BigEndian.Uint32(b[4:]) {
			break // a torn tail
		}
		k, err := applyRecords(b[walHeader:walHeader+size], fn)
		n += k
		if err != nil {
			return n, err
		}
		b = b[walHeader+size:]
	}
	return n, nil
}

// applyRecords calls fn for each record of p, a frame's payload (or the
// records of one not yet written), and returns how many it passed.
func applyRecords(p []byte, fn func(op byte, key, val []byte) error) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(p) < 3 {
			return n, fmt.Errorf("%w: short log record", ErrCorrupt)
		}
		op, kl := p[0], int(binary.BigEndian.Uint16(p[1:]))
		p = p[3:]
		if kl < 6 || kl > len(p) {
			return n, fmt.Errorf("%w: log key of %d bytes", ErrCorrupt, kl)
		}
		key := p[:kl:kl]
		p = p[kl:]
		var val []byte
		switch op {
		case walPut:
			end, ok := recordEnd(p)
			if !ok {
				return n, fmt.Errorf("%w: short log record", ErrCorrupt)
			}
			val = p[:end:end]
			p = p[end:]
		case walDelete:
		default:
			return n, fmt.Errorf("%w: log op %d", ErrCorrupt, op)
		}
		if err := fn(op, key, val); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
