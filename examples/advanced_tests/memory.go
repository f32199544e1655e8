package main

import (
	"runtime/metrics"
	"strconv"
)

// The original logs FreeRTOS and heap figures that a PC has no exact
// counterpart for. These are the Go runtime's nearest equivalents, so the
// same lines, and the same checks on them, keep their meaning.

// maxStack stands for config.stack_size: the most stack the server task may
// use. A goroutine's stack grows on demand up to the runtime's limit
// (runtime/debug.SetMaxStack), by default 1 GB on 64-bit systems and 250 MB
// on 32-bit ones.
const maxStack = 250_000_000 + (strconv.IntSize/64)*750_000_000

// freeStack stands for uxTaskGetStackHighWaterMark(NULL), the stack the
// server task has never used: the limit less the stack memory the runtime
// has in use.
func freeStack() uint64 {
	used := readMetric("/memory/classes/heap/stacks:bytes")
	if used > maxStack {
		return 0
	}
	return maxStack - used
}

// freeHeap stands for esp_get_free_heap_size(): memory the heap holds that
// no object uses, in free spans and in the unused part of spans in use.
func freeHeap() uint64 {
	return readMetric("/memory/classes/heap/free:bytes") + readMetric("/memory/classes/heap/unused:bytes")
}

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
