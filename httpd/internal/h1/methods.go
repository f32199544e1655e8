package h1

// Method ids. They follow the order of http_parser's enum http_method, the
// parser ESP-IDF embeds, so httpd.Method values equal ESP-IDF's HTTP_GET,
// HTTP_POST... and numeric ids in logs line up with a device's.
const (
	MethodDelete      = iota // DELETE
	MethodGet                // GET
	MethodHead               // HEAD
	MethodPost               // POST
	MethodPut                // PUT
	MethodConnect            // CONNECT
	MethodOptions            // OPTIONS
	MethodTrace              // TRACE
	MethodCopy               // COPY (WebDAV)
	MethodLock               // LOCK (WebDAV)
	MethodMkcol              // MKCOL (WebDAV)
	MethodMove               // MOVE (WebDAV)
	MethodPropfind           // PROPFIND (WebDAV)
	MethodProppatch          // PROPPATCH (WebDAV)
	MethodSearch             // SEARCH (WebDAV)
	MethodUnlock             // UNLOCK (WebDAV)
	MethodBind               // BIND (WebDAV)
	MethodRebind             // REBIND (WebDAV)
	MethodUnbind             // UNBIND (WebDAV)
	MethodAcl                // ACL (WebDAV)
	MethodReport             // REPORT (Subversion)
	MethodMkactivity         // MKACTIVITY (Subversion)
	MethodCheckout           // CHECKOUT (Subversion)
	MethodMerge              // MERGE (Subversion)
	MethodMsearch            // M-SEARCH (UPnP)
	MethodNotify             // NOTIFY (UPnP)
	MethodSubscribe          // SUBSCRIBE (UPnP)
	MethodUnsubscribe        // UNSUBSCRIBE (UPnP)
	MethodPatch              // PATCH (RFC 5789)
	MethodPurge              // PURGE (cache)
	MethodMkcalendar         // MKCALENDAR (CalDAV)
	MethodLink               // LINK (RFC 2068)
	MethodUnlink             // UNLINK (RFC 2068)
	MethodSource             // SOURCE (Icecast)

	// NumMethods is the number of known methods; valid ids are
	// 0 <= id < NumMethods.
	NumMethods
)

// MethodNames maps a method id to its wire token.
var MethodNames = [NumMethods]string{
	MethodDelete:      "DELETE",
	MethodGet:         "GET",
	MethodHead:        "HEAD",
	MethodPost:        "POST",
	MethodPut:         "PUT",
	MethodConnect:     "CONNECT",
	MethodOptions:     "OPTIONS",
	MethodTrace:       "TRACE",
	MethodCopy:        "COPY",
	MethodLock:        "LOCK",
	MethodMkcol:       "MKCOL",
	MethodMove:        "MOVE",
	MethodPropfind:    "PROPFIND",
	MethodProppatch:   "PROPPATCH",
	MethodSearch:      "SEARCH",
	MethodUnlock:      "UNLOCK",
	MethodBind:        "BIND",
	MethodRebind:      "REBIND",
	MethodUnbind:      "UNBIND",
	MethodAcl:         "ACL",
	MethodReport:      "REPORT",
	MethodMkactivity:  "MKACTIVITY",
	MethodCheckout:    "CHECKOUT",
	MethodMerge:       "MERGE",
	MethodMsearch:     "M-SEARCH",
	MethodNotify:      "NOTIFY",
	MethodSubscribe:   "SUBSCRIBE",
	MethodUnsubscribe: "UNSUBSCRIBE",
	MethodPatch:       "PATCH",
	MethodPurge:       "PURGE",
	MethodMkcalendar:  "MKCALENDAR",
	MethodLink:        "LINK",
	MethodUnlink:      "UNLINK",
	MethodSource:      "SOURCE",
}

// maxMethodLen is the length of the longest token in MethodNames
// ("UNSUBSCRIBE"). A longer token cannot be a known method, which lets the
// parser answer 501 without waiting for the rest of the line.
const maxMethodLen = 11

// LookupMethod returns the id of the method whose wire token is exactly tok.
// Methods are case-sensitive (RFC 9110, section 9.1): "get" is not GET.
func LookupMethod(tok []byte) (int, bool) {
	// The compiler turns a switch on string(tok) into a comparison that
	// neither allocates nor copies.
	switch string(tok) {
	case "DELETE":
		return MethodDelete, true
	case "GET":
		return MethodGet, true
	case "HEAD":
		return MethodHead, true
	case "POST":
		return MethodPost, true
	case "PUT":
		return MethodPut, true
	case "CONNECT":
		return MethodConnect, true
	case "OPTIONS":
		return MethodOptions, true
	case "TRACE":
		return MethodTrace, true
	case "COPY":
		return MethodCopy, true
	case "LOCK":
		return MethodLock, true
	case "MKCOL":
		return MethodMkcol, true
	case "MOVE":
		return MethodMove, true
	case "PROPFIND":
		return MethodPropfind, true
	case "PROPPATCH":
		return MethodProppatch, true
	case "SEARCH":
		return MethodSearch, true
	case "UNLOCK":
		return MethodUnlock, true
	case "BIND":
		return MethodBind, true
	case "REBIND":
		return MethodRebind, true
	case "UNBIND":
		return MethodUnbind, true
	case "ACL":
		return MethodAcl, true
	case "REPORT":
		return MethodReport, true
	case "MKACTIVITY":
		return MethodMkactivity, true
	case "CHECKOUT":
		return MethodCheckout, true
	case "MERGE":
		return MethodMerge, true
	case "M-SEARCH":
		return MethodMsearch, true
	case "NOTIFY":
		return MethodNotify, true
	case "SUBSCRIBE":
		return MethodSubscribe, true
	case "UNSUBSCRIBE":
		return MethodUnsubscribe, true
	case "PATCH":
		return MethodPatch, true
	case "PURGE":
		return MethodPurge, true
	case "MKCALENDAR":
		return MethodMkcalendar, true
	case "LINK":
		return MethodLink, true
	case "UNLINK":
		return MethodUnlink, true
	case "SOURCE":
		return MethodSource, true
	}
	return -1, false
}
