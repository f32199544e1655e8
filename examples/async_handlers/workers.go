package main

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// asyncHandler is a handler that can run twice: first on the server's
// worker (onWorker false), where it hands the request over, then on one of
// the example's async workers. It stands for the C example's handlers, which
// ask is_on_async_worker_thread() where they run; goroutines have no such
// identity, so the worker says so.
type asyncHandler func(r *httpd.Req, onWorker bool) error

// asyncReq is httpd_async_req_t: a request copy and the handler to run it.
type asyncReq struct {
	req     *httpd.Req
	handler asyncHandler
}

// Why a request could not be handed to a worker.
var (
	errNoWorkers = errors.New("no workers are available")
	errQueueFull = errors.New("worker queue is full")
)

// queueWait is how long submit waits for the queue once a worker is known
// to be free (the C example's "wait up to 100ms just to be safe").
const queueWait = 100 * time.Millisecond

// workerPool is the C example's asyncReqQueue, workerReadyCount and
// worker tasks.
type workerPool struct {
	log *slog.Logger
	// ready is the counting semaphore workerReadyCount: each idle worker
	// puts one token in, a submitter takes one out.
	ready chan struct{}
	// queue holds one request on its way to a worker (asyncReqQueue).
	queue chan asyncReq
	quit  chan struct{}
	wg    sync.WaitGroup
}

// startWorkers is start_async_req_workers: n workers, each waiting for a
// request.
func startWorkers(n int, log *slog.Logger) *workerPool {
	p := &workerPool{
		log:   log,
		ready: make(chan struct{}, n),
		queue: make(chan asyncReq, 1),
		quit:  make(chan struct{}),
	}
	p.wg.Add(n)
	for range n {
		go p.worker()
	}
	return p
}

// worker is async_req_worker_task.
func (p *workerPool) worker() {
	defer p.wg.Done()
	p.log.Info("starting async req task worker")
	for {
		// Signal that this worker is ready to accept work. The semaphore
		// holds one token per worker, so this never blocks.
		p.ready <- struct{}{}
		select {
		case <-p.quit:
			p.log.Warn("worker stopped")
			return
		case ar := <-p.queue:
			p.log.Info("invoking " + ar.req.URI)
			ar.handler(ar.req, true)
			// Let the server serve the session again (and purge it, if need be).
			if err := ar.req.AsyncHandlerComplete(); err != nil {
				p.log.Error("failed to complete async req")
			}
		}
	}
}

// submit is submit_async_req: it takes a copy of r that a worker owns and
// queues it, or, when no worker is free, completes the copy at once and
// reports why, so that the caller can answer on r.
func (p *workerPool) submit(r *httpd.Req, handler asyncHandler) error {
	cp, err := r.AsyncHandlerBegin()
	if err != nil {
		return err
	}
	select {
	case <-p.ready:
	default:
		p.log.Error("No workers are available")
		cp.AsyncHandlerComplete() // clean up
		return errNoWorkers
	}
	select {
	case p.queue <- asyncReq{req: cp, handler: handler}:
		return nil
	case <-time.After(queueWait):
		p.log.Error("worker queue is full")
		cp.AsyncHandlerComplete()
		return errQueueFull
	}
}

// stopping is closed when the pool is told to stop: long handlers end early.
func (p *workerPool) stopping() <-chan struct{} { return p.quit }

// stop tells the workers to stop.
func (p *workerPool) stop() { close(p.quit) }

// wait waits for every worker to return.
func (p *workerPool) wait() { p.wg.Wait() }
