// Package httpdtest starts an httpd handle for a test and hands out clients
// for it, so that a test of code written against the handle API is a few
// lines:
//
//	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{...})
//	resp, err := srv.Client().Get(srv.URL + "/hello")
//
// The handle listens on an ephemeral loopback port and is stopped when the
// test ends (t.Cleanup), after the clients it handed out have closed their
// connections; the cleanup then fails the test when goroutines started
// during the test are still running, the way the library's own tests check
// that Stop leaves nothing behind. Because that check counts every goroutine
// of the process, do not use it from tests that call t.Parallel.
package httpdtest
