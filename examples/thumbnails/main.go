// Command thumbnails is postbox's first real job: a producer enqueues image
// jobs and a worker pool turns real PNG images into thumbnails, on the
// in-process queue engine, printing its progress as it goes.
//
//	go run ./examples/thumbnails                   # 300 jobs, a summary, exit 0
//	go run ./examples/thumbnails -dir /tmp/thumbs  # ... keeping the images in /tmp/thumbs
//	go run ./examples/thumbnails -n 2000 -workers 32
//	go run ./examples/thumbnails -serve            # keep working until Ctrl-C
//
// The source images are generated (gradients and discs, different for every
// job) into a folder, as if users had uploaded them; each job names one.
// Without -dir that folder is a temporary one, removed at the end; with
// -dir DIR the sources and thumbnails stay in DIR/sources and DIR/thumbs. The
// jobs are typed: the producer sends "thumbnail" jobs with middleware.NewJob
// (a JSON body and a "type" message attribute), and a middleware.Router
// hands each to the typed handler of its type (middleware.Job). A thumbnail
// handler decodes the source, scales it down to fit -size by area
// averaging, writes the thumbnail, and enqueues a "stats" job with the
// sizes, which the stats handler adds to the summary. A few thumbnail jobs
// fail on their first attempt (-fail) to show retries with backoff: every
// job still ends done.
//
// The queue is named by a URL (-queue, default mem://thumbnails): the same
// program works against AWS SQS or postbox serve by linking their backend
// and passing their URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/native" // serves mem:// URLs
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "thumbnails:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	queue    string
	jobs     int
	workers  int
	size     int
	width    int
	height   int
	failRate float64
	dir      string
	serve    bool
	progress time.Duration
}

func parse(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("thumbnails", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.queue, "queue", "mem://thumbnails", "queue URL")
	fs.IntVar(&o.jobs, "n", 300, "number of image jobs to enqueue")
	fs.IntVar(&o.workers, "workers", 16, "handlers running at once")
	fs.IntVar(&o.size, "size", 128, "largest side of a thumbnail, in pixels")
	fs.IntVar(&o.width, "width", 480, "width of the generated source images")
	fs.IntVar(&o.height, "height", 360, "height of the generated source images")
	fs.Float64Var(&o.failRate, "fail", 0.02, "share of jobs that fail on their first attempt (to show retries)")
	fs.StringVar(&o.dir, "dir", "", "folder for the sources and thumbnails, kept at the end (default: a temporary folder, removed at the end)")
	fs.BoolVar(&o.serve, "serve", false, "keep running as a worker after the jobs are done, until interrupted")
	fs.DurationVar(&o.progress, "progress", time.Second, "how often to print progress")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.jobs < 0 || o.workers < 1 || o.size < 1 || o.width < 1 || o.height < 1 || o.failRate < 0 || o.failRate > 1 {
		return o, errors.New("bad flag value")
	}
	return o, nil
}

// thumbnailJob asks for the thumbnail of one source image.
type thumbnailJob struct {
	ID     int    `json:"id"`
	Source string `json:"source"`
	Thumb  string `json:"thumb"`
	Size   int    `json:"size"`
}

// statsJob reports a finished thumbnail.
type statsJob struct {
	ID          int   `json:"id"`
	SourceBytes int64 `json:"source_bytes"`
	ThumbBytes  int64 `json:"thumb_bytes"`
}

// tally adds up the stats jobs, once per thumbnail however often a stats
// job is delivered.
type tally struct {
	mu                      sync.Mutex
	seen                    map[int]bool
	sourceBytes, thumbBytes int64
}

// add records s and returns how many thumbnails are done.
func (t *tally) add(s statsJob) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.seen[s.ID] {
		t.seen[s.ID] = true
		t.sourceBytes += s.SourceBytes
		t.thumbBytes += s.ThumbBytes
	}
	return len(t.seen)
}

func (t *tally) read() (done int, sourceBytes, thumbBytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen), t.sourceBytes, t.thumbBytes
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parse(args, out)
	if err != nil {
		return err
	}
	tempDir := o.dir == ""
	if tempDir {
		if o.dir, err = os.MkdirTemp("", "postbox-thumbnails-"); err != nil {
			return err
		}
		// Nothing is left behind in the temporary folder; -dir keeps it all.
		defer func() {
			if err := os.RemoveAll(o.dir); err != nil {
				fmt.Fprintln(out, "thumbnails:", err)
				return
			}
			fmt.Fprintf(out, "thumbnails: removed the temporary folder %s; run with -dir DIR to keep the thumbnails\n", o.dir)
		}()
	}
	srcDir, thumbDir := filepath.Join(o.dir, "sources"), filepath.Join(o.dir, "thumbs")
	for _, d := range []string{srcDir, thumbDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	q, svc, err := backend.Open(ctx, o.queue)
	if err != nil {
		return err
	}
	_ = svc // the shared in-process engine lives as long as the program

	fmt.Fprintf(out, "thumbnails: %d jobs, %d workers, queue %s\n", o.jobs, o.workers, o.queue)
	fmt.Fprintf(out, "thumbnails: sources in %s, thumbnails in %s\n", srcDir, thumbDir)

	// The worker: a router with one typed handler per job type. Stats jobs
	// go back to the same queue through a producer of the worker's own.
	var failures atomic.Int64
	stats := &tally{seen: map[int]bool{}}
	allDone := make(chan struct{})
	var closeOnce sync.Once
	statsOut := producer.New(q, producer.Config{})
	defer statsOut.Close()
	router := middleware.NewRouter()
	router.Handle("thumbnail", middleware.Job(func(ctx context.Context, j thumbnailJob) error {
		// Decode, scale, encode. Some first attempts fail on purpose.
		msg, _ := middleware.MessageFromContext(ctx)
		if msg.ReceiveCount == 1 && flaky(j.ID, o.failRate) {
			failures.Add(1)
			return fmt.Errorf("job %d: simulated storage hiccup", j.ID)
		}
		s, err := makeThumbnail(j.Source, j.Thumb, j.Size)
		if err != nil {
			failures.Add(1)
			return err
		}
		s.ID = j.ID
		m, err := middleware.NewJob("stats", s)
		if err == nil {
			_, err = statsOut.Send(ctx, m)
		}
		return err
	}))
	router.Handle("stats", middleware.Job(func(ctx context.Context, s statsJob) error {
		if stats.add(s) == o.jobs {
			closeOnce.Do(func() { close(allDone) })
		}
		return nil
	}))
	if o.jobs == 0 {
		close(allDone)
	}
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       q,
			Handler:     consumer.Chain(router, middleware.Recover(), middleware.Timeout(time.Minute)),
			Concurrency: o.workers,
			Prefetch:    o.workers / 4,
			Backoff:     consumer.ExponentialBackoff(500*time.Millisecond, 2*time.Second),
		}},
		OnError: func(err error) {
			var e *consumer.Error
			if errors.As(err, &e) && e.Op == consumer.OpHandle {
				return // counted as failures; the job is retried
			}
			fmt.Fprintln(out, "thumbnails:", err)
		},
	})
	if err != nil {
		return err
	}
	runCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()

	// The producer: generate each source image, then enqueue its job. The
	// auto-batching producer merges the concurrent sends into batches.
	start := time.Now()
	p := producer.New(q, producer.Config{})
	var wg sync.WaitGroup
	var next atomic.Int64
	var produceErr error
	var errOnce sync.Once
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.jobs || ctx.Err() != nil {
					return
				}
				j := thumbnailJob{ID: i, Source: filepath.Join(srcDir, fmt.Sprintf("img-%05d.png", i)),
					Thumb: filepath.Join(thumbDir, fmt.Sprintf("img-%05d.png", i)), Size: o.size}
				_, err := writePNG(j.Source, generate(i, o.width, o.height))
				if err == nil {
					var m producer.Message
					if m, err = middleware.NewJob("thumbnail", j); err == nil {
						_, err = p.Send(ctx, m)
					}
				}
				if err != nil {
					errOnce.Do(func() { produceErr = err })
					return
				}
			}
		})
	}

	tick := time.NewTicker(o.progress)
	defer tick.Stop()
	report := func() {
		elapsed := time.Since(start)
		d, _, _ := stats.read()
		fmt.Fprintf(out, "progress: %d/%d done, %.1f jobs/s, %d failed attempts (retried), %d in flight\n",
			d, o.jobs, float64(d)/elapsed.Seconds(), failures.Load(), srv.Stats().InFlight)
	}
	produced := make(chan struct{})
	go func() { wg.Wait(); p.Close(); close(produced) }()
wait:
	for {
		select {
		case <-allDone:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
			report()
		}
	}
	<-produced
	elapsed := time.Since(start)
	if produceErr != nil {
		stopServer()
		<-served
		return fmt.Errorf("enqueueing: %w", produceErr)
	}
	d, srcBytes, thumbBytes := stats.read()
	fmt.Fprintf(out, "summary: %d/%d thumbnails in %v (%.1f jobs/s), %d failed attempts retried; sources %s, thumbnails %s\n",
		d, o.jobs, elapsed.Round(time.Millisecond), float64(d)/elapsed.Seconds(), failures.Load(),
		byteSize(srcBytes), byteSize(thumbBytes))

	if o.serve && ctx.Err() == nil {
		fmt.Fprintln(out, "thumbnails: serving; send jobs to", o.queue, "- interrupt to stop")
		<-ctx.Done()
	}
	stopServer()
	if err := <-served; err != nil {
		return err
	}
	if d != o.jobs {
		return fmt.Errorf("%d of %d jobs done", d, o.jobs)
	}
	if !tempDir {
		fmt.Fprintf(out, "thumbnails: %d thumbnails are in %s, their sources in %s\n", d, thumbDir, srcDir)
	}
	return nil
}

// flaky tells whether job id fails its first attempt.
func flaky(id int, rate float64) bool {
	h := fnv.New32a()
	fmt.Fprint(h, id)
	return float64(h.Sum32()%10000) < rate*10000
}

// generate draws a w×h image that differs for every seed: a diagonal
// gradient with a few soft-edged discs.
func generate(seed, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := uint32(seed*2654435761 + 1)
	rnd := func(n int) int {
		r ^= r << 13
		r ^= r >> 17
		r ^= r << 5
		return int(r % uint32(n))
	}
	c0 := color.RGBA{uint8(rnd(256)), uint8(rnd(256)), uint8(rnd(256)), 255}
	c1 := color.RGBA{uint8(rnd(256)), uint8(rnd(256)), uint8(rnd(256)), 255}
	type disc struct {
		x, y, r int
		c       color.RGBA
	}
	discs := make([]disc, 3+rnd(4))
	for i := range discs {
		discs[i] = disc{rnd(w), rnd(h), 20 + rnd(min(w, h)/3+1),
			color.RGBA{uint8(rnd(256)), uint8(rnd(256)), uint8(rnd(256)), 255}}
	}
	for y := range h {
		for x := range w {
			t := (x + y) * 255 / (w + h)
			px := color.RGBA{
				uint8((int(c0.R)*(255-t) + int(c1.R)*t) / 255),
				uint8((int(c0.G)*(255-t) + int(c1.G)*t) / 255),
				uint8((int(c0.B)*(255-t) + int(c1.B)*t) / 255),
				255,
			}
			for _, d := range discs {
				dx, dy := x-d.x, y-d.y
				if dx*dx+dy*dy <= d.r*d.r {
					px = color.RGBA{(px.R + d.c.R) / 2, (px.G + d.c.G) / 2, (px.B + d.c.B) / 2, 255}
				}
			}
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = px.R, px.G, px.B, 255
		}
	}
	return img
}

// writePNG writes img to path and returns the file's size.
func writePNG(path string, img image.Image) (int64, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, img); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return st.Size(), os.Rename(tmp, path)
}

// makeThumbnail scales the PNG at src down to fit size×size, writes it to
// dst, and returns the sizes of both files.
func makeThumbnail(src, dst string, size int) (statsJob, error) {
	f, err := os.Open(src)
	if err != nil {
		return statsJob{}, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return statsJob{}, err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return statsJob{}, consumer.Permanent(fmt.Errorf("decoding %s: %w", src, err))
	}
	n, err := writePNG(dst, scaleDown(img, size))
	return statsJob{SourceBytes: st.Size(), ThumbBytes: n}, err
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// scaleDown returns img scaled to fit size×size, keeping its aspect ratio,
// by area averaging: each output pixel is the mean of the source pixels it
// covers. Images that already fit are copied.
func scaleDown(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if sw > size || sh > size {
		if sw >= sh {
			dw, dh = size, max(1, sh*size/sw)
		} else {
			dw, dh = max(1, sw*size/sh), size
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		y0, y1 := b.Min.Y+y*sh/dh, b.Min.Y+max((y+1)*sh/dh, y*sh/dh+1)
		for x := range dw {
			x0, x1 := b.Min.X+x*sw/dw, b.Min.X+max((x+1)*sw/dw, x*sw/dw+1)
			var r, g, bl, a, n uint64
			if rgba, ok := img.(*image.RGBA); ok {
				// Fast path: read the pixels directly (8 bits a channel).
				for sy := y0; sy < y1; sy++ {
					row := rgba.Pix[rgba.PixOffset(x0, sy):rgba.PixOffset(x1, sy)]
					for i := 0; i < len(row); i += 4 {
						r, g, bl, a = r+uint64(row[i]), g+uint64(row[i+1]), bl+uint64(row[i+2]), a+uint64(row[i+3])
					}
					n += uint64(x1 - x0)
				}
				out.SetRGBA(x, y, color.RGBA{uint8(r / n), uint8(g / n), uint8(bl / n), uint8(a / n)})
				continue
			}
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					r, g, bl, a = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca)
					n++
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), uint8(a / n >> 8)})
		}
	}
	return out
}
