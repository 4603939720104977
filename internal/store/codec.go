package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Snapshots are stored zstd-compressed: JSON of Exchange objects compresses
// about tenfold, and zstd decodes several times faster than gzip for the same
// ratio. The encoder and decoder are shared; EncodeAll and DecodeAll are safe
// for concurrent use.
const encodingZstd = "zstd"

// maxSnapshotSize bounds what Snapshot will decompress: far above any real
// tenant, low enough that a corrupted size field cannot exhaust memory.
const maxSnapshotSize = 512 << 20

var (
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	})
	zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxSnapshotSize))
	})
)

type encodedSnapshot struct {
	data    []byte
	sha256  string
	rawSize int64
}

func encodeSnapshot(raw []byte) (encodedSnapshot, error) {
	if len(raw) > maxSnapshotSize {
		return encodedSnapshot{}, fmt.Errorf("snapshot is %d bytes, more than the %d the store accepts", len(raw), maxSnapshotSize)
	}
	enc, err := zstdEncoder()
	if err != nil {
		return encodedSnapshot{}, fmt.Errorf("zstd: %w", err)
	}
	sum := sha256.Sum256(raw)
	return encodedSnapshot{
		data:    enc.EncodeAll(raw, make([]byte, 0, len(raw)/8)),
		sha256:  hex.EncodeToString(sum[:]),
		rawSize: int64(len(raw)),
	}, nil
}

// decodeSnapshot decompresses and verifies a stored snapshot: a snapshot that
// does not match its checksum is an error, never silently different data.
func decodeSnapshot(encoding string, data []byte, wantSHA string, rawSize int64) ([]byte, error) {
	if encoding != encodingZstd {
		return nil, fmt.Errorf("unknown snapshot encoding %q", encoding)
	}
	if rawSize < 0 || rawSize > maxSnapshotSize {
		return nil, fmt.Errorf("stored snapshot size %d is out of range", rawSize)
	}
	dec, err := zstdDecoder()
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	raw, err := dec.DecodeAll(data, make([]byte, 0, rawSize))
	if err != nil {
		return nil, fmt.Errorf("decompress snapshot: %w", err)
	}
	if int64(len(raw)) != rawSize {
		return nil, fmt.Errorf("snapshot is %d bytes, %d recorded: corrupted", len(raw), rawSize)
	}
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != wantSHA {
		return nil, fmt.Errorf("snapshot checksum mismatch: corrupted")
	}
	return raw, nil
}
