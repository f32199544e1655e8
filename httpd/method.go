package httpd

import "github.com/esphttpd/esphttpd/httpd/internal/h1"

// Method is an HTTP method (httpd_method_t). Values equal ESP-IDF's
// HTTP_GET, HTTP_POST... so numeric logs line up with a device's.
type Method int

// The methods the request parser knows, in http_parser's order. Any other
// method token is answered 501.
const (
	DELETE      Method = h1.MethodDelete
	GET         Method = h1.MethodGet
	HEAD        Method = h1.MethodHead
	POST        Method = h1.MethodPost
	PUT         Method = h1.MethodPut
	CONNECT     Method = h1.MethodConnect
	OPTIONS     Method = h1.MethodOptions
	TRACE       Method = h1.MethodTrace
	COPY        Method = h1.MethodCopy
	LOCK        Method = h1.MethodLock
	MKCOL       Method = h1.MethodMkcol
	MOVE        Method = h1.MethodMove
	PROPFIND    Method = h1.MethodPropfind
	PROPPATCH   Method = h1.MethodProppatch
	SEARCH      Method = h1.MethodSearch
	UNLOCK      Method = h1.MethodUnlock
	BIND        Method = h1.MethodBind
	REBIND      Method = h1.MethodRebind
	UNBIND      Method = h1.MethodUnbind
	ACL         Method = h1.MethodAcl
	REPORT      Method = h1.MethodReport
	MKACTIVITY  Method = h1.MethodMkactivity
	CHECKOUT    Method = h1.MethodCheckout
	MERGE       Method = h1.MethodMerge
	MSEARCH     Method = h1.MethodMsearch
	NOTIFY      Method = h1.MethodNotify
	SUBSCRIBE   Method = h1.MethodSubscribe
	UNSUBSCRIBE Method = h1.MethodUnsubscribe
	PATCH       Method = h1.MethodPatch
	PURGE       Method = h1.MethodPurge
	MKCALENDAR  Method = h1.MethodMkcalendar
	LINK        Method = h1.MethodLink
	UNLINK      Method = h1.MethodUnlink
	SOURCE      Method = h1.MethodSource

	// ANY (HTTP_ANY) registers a handler for every method.
	ANY Method = -1

	// Unsupported is the Method of a request whose method could not be
	// parsed or is not one of the known methods, as an error handler sees
	// it: ESP-IDF keeps it apart from HTTP_ANY too.
	Unsupported Method = -2
)

// methodUnknown is a request's method until its head has been parsed.
const methodUnknown = Unsupported

// String returns the method's wire token ("GET", "M-SEARCH"), "ANY", or
// "UNKNOWN" for Unsupported.
func (m Method) String() string {
	if m == ANY {
		return "ANY"
	}
	if m < 0 || int(m) >= h1.NumMethods {
		return "UNKNOWN"
	}
	return h1.MethodNames[m]
}

func (m Method) valid() bool { return m == ANY || (m >= 0 && int(m) < h1.NumMethods) }
