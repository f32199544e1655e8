package httpd

import "testing"

// TestCheckOwner makes sure the ownership check can fail: a session handed
// to the worker must not be collected by its reader, and the other way
// round.
func TestCheckOwner(t *testing.T) {
	c := &conn{}
	c.owner.Store(ownerWorker)
	c.checkOwner(ownerWorker)
	defer func() {
		if recover() == nil {
			t.Fatal("the reader's check passed on a session the worker owns")
		}
	}()
	c.checkOwner(ownerReader)
}
