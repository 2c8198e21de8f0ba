package native

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"sort"
	"unsafe"

	"github.com/postbox-go/postbox/backend"
)

// The durable engine's log and snapshots are sequences of frames:
//
//	magic [2]byte | length uint32 | crc32c uint32 | type byte | payload
//
// length counts the type byte and the payload, and the CRC (Castagnoli)
// covers the same bytes. A reader that meets a frame that does not check
// out skips ahead to the next magic whose frame does, so one damaged frame
// costs only itself.
const (
	frameMagic0   = 0xB0
	frameMagic1   = 0x58
	frameHeader   = 10
	maxFrameBytes = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Record types.
const (
	recCreateQueue byte = iota + 1 // a queue and its settings
	recDeleteQueue                 // a queue deleted (and its name's deletion time)
	recSetAttrs                    // attributes changed
	recTags                        // the queue's whole tag set
	recPurge                       // every message deleted
	recSend                        // messages enqueued, with their whole state
	recReceive                     // messages received: counts, handles, visibility
	recVisibility                  // visibility changed
	recDelete                      // messages deleted
	recAttempt                     // a FIFO receive attempt remembered
	recDedup                       // FIFO deduplication entries (snapshots)
	recQueueMark                   // snapshot: the LSN a queue's state is current to
	recTask                        // a message move task's state
	recEnd                         // snapshot: the end, all written
)

// enc builds one frame's payload.
type enc struct{ b []byte }

func (e *enc) u(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) s(v string)  { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) by(v []byte) { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) flag(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *enc) strMap(m map[string]string) {
	e.u(uint64(len(m)))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.s(k)
		e.s(m[k])
	}
}

func (e *enc) attrMap(m map[string]backend.MessageAttributeValue) {
	e.u(uint64(len(m)))
	for k, v := range m {
		e.s(k)
		e.s(v.DataType)
		e.s(v.StringValue)
		e.flag(v.BinaryValue != nil)
		if v.BinaryValue != nil {
			e.by(v.BinaryValue)
		}
	}
}

// appendFrame appends a frame of type t with payload p to dst.
func appendFrame(dst []byte, t byte, p []byte) []byte {
	var h [frameHeader]byte
	h[0], h[1] = frameMagic0, frameMagic1
	binary.LittleEndian.PutUint32(h[2:6], uint32(len(p)+1))
	c := crc32.Update(0, crcTable, []byte{t})
	c = crc32.Update(c, crcTable, p)
	binary.LittleEndian.PutUint32(h[6:10], c)
	dst = append(dst, h[:]...)
	dst = append(dst, t)
	return append(dst, p...)
}

// frame is one decoded frame.
type frame struct {
	typ     byte
	payload []byte
	end     int // offset just past the frame
}

// nextFrame decodes the frame at buf[off:]. ok is false when no valid
// frame starts there (torn, corrupt, or not a frame at all).
func nextFrame(buf []byte, off int) (f frame, ok bool) {
	if len(buf)-off < frameHeader+1 || buf[off] != frameMagic0 || buf[off+1] != frameMagic1 {
		return f, false
	}
	n := int(binary.LittleEndian.Uint32(buf[off+2:]))
	if n < 1 || n > maxFrameBytes || off+frameHeader+n > len(buf) {
		return f, false
	}
	body := buf[off+frameHeader : off+frameHeader+n]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(buf[off+6:]) {
		return f, false
	}
	return frame{typ: body[0], payload: body[1:], end: off + frameHeader + n}, true
}

// scanFrames calls fn for every valid frame in buf, skipping damaged
// stretches. It returns the bytes skipped and the offset where the last
// valid frame ended.
func scanFrames(buf []byte, fn func(f frame) error) (skipped []skip, lastEnd int, err error) {
	off := 0
	for off < len(buf) {
		f, ok := nextFrame(buf, off)
		if !ok {
			start := off
			off++
			for off < len(buf) {
				if buf[off] == frameMagic0 {
					if _, ok := nextFrame(buf, off); ok {
						break
					}
				}
				off++
			}
			skipped = append(skipped, skip{at: start, n: off - start})
			continue
		}
		if err := fn(f); err != nil {
			return skipped, lastEnd, err
		}
		off = f.end
		lastEnd = off
	}
	return skipped, lastEnd, nil
}

type skip struct{ at, n int }

var errShort = errors.New("native: truncated record")

// dec reads one frame's payload. The first error sticks; callers check err
// once at the end.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}

func (d *dec) u() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) n() int {
	v := d.u()
	if v > uint64(len(d.b)) || v > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *dec) s() string {
	n := d.n()
	if d.err != nil {
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

// view reads a string without copying it: the result shares the record's
// memory, so callers copy it (pack) before the record goes away.
func (d *dec) view() string {
	n := d.n()
	if d.err != nil || n == 0 {
		return ""
	}
	v := unsafe.String(&d.b[0], n)
	d.b = d.b[n:]
	return v
}

func (d *dec) by() []byte {
	n := d.n()
	if d.err != nil {
		return nil
	}
	v := append([]byte{}, d.b[:n]...)
	d.b = d.b[n:]
	return v
}

func (d *dec) flag() bool {
	if len(d.b) < 1 {
		d.fail()
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

func (d *dec) strMap() map[string]string {
	n := d.n()
	m := make(map[string]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s()
		m[k] = d.s()
	}
	return m
}

func (d *dec) attrMap() map[string]backend.MessageAttributeValue {
	n := d.n()
	if n == 0 {
		return nil
	}
	m := make(map[string]backend.MessageAttributeValue, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.s()
		v := backend.MessageAttributeValue{DataType: d.s(), StringValue: d.s()}
		if d.flag() {
			v.BinaryValue = d.by()
		}
		m[k] = v
	}
	return m
}
