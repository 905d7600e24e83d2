// margay-cni: the CNI plugin executable (CNI spec 1.0.0; 0.3.x/0.4.0 results when
// the config asks), a static Go binary so that an ADD does not pay for a Node
// start. It is a thin forwarder, the twin of agent/cni/margay-cni.ts:
//
//   - VERSION is answered here (the list must equal protocol.ts SUPPORTED_VERSIONS;
//     test/unit/agent/cni/plugin-client.test.ts compares the two answers);
//   - the network config is read only for "socket" and "timeoutSeconds" (defaults
//     /run/margay/cni.sock and 60), and "cniVersion" for this program's own errors;
//   - the CNI_* environment and stdin go to the local margay agent verbatim (wire.ts,
//     raw form, one JSON line each way); the agent parses, validates, does the
//     work and answers with what to print and the exit code, which this prints;
//   - no agent, a timeout, the connection closed without an answer (an agent
//     restarting) or a reply it cannot read: the spec's JSON error on stdout with
//     the codes and messages the Node client gives (11, 5, 105), exit code 1.
//
// MARGAY_CNI_TIMING=1 prints on stderr the agent's share, this process's stages
// (ms since its start: loaded, connected, answered, done) and its CPU ms.
// Standard library only.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// supportedVersions: agent/cni/protocol.ts SUPPORTED_VERSIONS.
var supportedVersions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0"}

const (
	defaultSocket         = "/run/margay/cni.sock"
	defaultTimeoutSeconds = 60.0
	rawWireVersion        = 2
	maxReply              = 16 << 20
)

// CNI error codes (agent/cni/errors.ts).
const (
	codeIOFailure     = 5
	codeDecodeFailure = 6
	codeInvalidConfig = 7
	codeTryAgainLater = 11
	codeAgentInternal = 104
	codeAgentProtocol = 105
)

var start = time.Now()

func sinceStart() float64 { return float64(time.Since(start).Microseconds()) / 1000 }

type cniError struct {
	CniVersion string `json:"cniVersion"`
	Code       int    `json:"code"`
	Msg        string `json:"msg"`
	Details    string `json:"details,omitempty"`
}

func (e *cniError) Error() string { return e.Msg }

func fail(code int, msg string) *cniError { return &cniError{Code: code, Msg: msg} }

type versionAnswer struct {
	CniVersion        string   `json:"cniVersion"`
	SupportedVersions []string `json:"supportedVersions"`
}

// versionResult: protocol.ts versionResult — the requested cniVersion if stdin
// holds one as a string, else 1.0.0.
func versionResult(stdin []byte) versionAnswer {
	requested := "1.0.0"
	text := stdin
	if len(text) == 0 {
		text = []byte("{}")
	}
	var conf map[string]interface{}
	if json.Unmarshal(text, &conf) == nil {
		// a string only: null, a number or an object count as absent
		if v, ok := conf["cniVersion"].(string); ok {
			requested = v
		}
	}
	return versionAnswer{CniVersion: requested, SupportedVersions: supportedVersions}
}

type clientConf struct {
	socket     string
	timeout    float64
	cniVersion string
}

func isSupported(v string) bool {
	for _, s := range supportedVersions {
		if s == v {
			return true
		}
	}
	return false
}

// readConf: wire.ts clientConf — only what this program needs from the config.
func readConf(stdin []byte) (clientConf, *cniError) {
	c := clientConf{socket: defaultSocket, timeout: defaultTimeoutSeconds, cniVersion: "1.0.0"}
	var parsed interface{}
	if err := json.Unmarshal(stdin, &parsed); err != nil {
		return c, fail(codeDecodeFailure, "network config on stdin is not JSON: "+err.Error())
	}
	obj, ok := parsed.(map[string]interface{})
	if !ok {
		return c, fail(codeDecodeFailure, "network config on stdin is not a JSON object")
	}
	if v, ok := obj["cniVersion"].(string); ok && isSupported(v) {
		c.cniVersion = v
	}
	if s, present := obj["socket"]; present && s != nil {
		str, ok := s.(string)
		if !ok || !strings.HasPrefix(str, "/") {
			return c, fail(codeInvalidConfig, `network config: "socket" must be an absolute path to the agent's unix socket`)
		}
		c.socket = str
	}
	if t, present := obj["timeoutSeconds"]; present && t != nil {
		n, ok := t.(float64)
		if !ok || !(n > 0) {
			return c, fail(codeInvalidConfig, `network config: "timeoutSeconds" must be a positive number`)
		}
		c.timeout = n
	}
	return c, nil
}

type rawRequest struct {
	V     int               `json:"v"`
	Env   map[string]string `json:"env"`
	Stdin string            `json:"stdin"`
}

type rawReply struct {
	Exit    *int            `json:"exit"`
	Stdout  *string         `json:"stdout"`
	AgentMs float64         `json:"agentMs"`
	Stages  json.RawMessage `json:"agentStages,omitempty"`
	Ok      *bool           `json:"ok"`
	Error   *agentEr        `json:"error"`
}

type agentEr struct {
	Code    *int    `json:"code"`
	Msg     *string `json:"msg"`
	Details string  `json:"details,omitempty"`
}

type timing struct {
	Client    string  `json:"client"`
	AgentMs   float64 `json:"agentMs"`
	Loaded    float64 `json:"loaded"`
	Connected float64 `json:"connected"`
	Answered  float64 `json:"answered"`
	Done      float64 `json:"done"`
	CPU       float64 `json:"cpu"`
	// where the agent's share went, when the agent tells (agent/cni/stages.ts)
	AgentStages json.RawMessage `json:"agentStages,omitempty"`
}

func secondsText(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

// callAgent sends the raw request and returns the agent's reply text.
func callAgent(c clientConf, req []byte, command string, t *timing) ([]byte, *cniError) {
	limit := time.Duration(math.MaxInt64)
	if c.timeout < limit.Seconds() {
		limit = time.Duration(c.timeout * float64(time.Second))
	}
	deadline := start.Add(limit)
	conn, err := net.DialTimeout("unix", c.socket, time.Until(deadline))
	if err != nil {
		why := ""
		switch {
		case errors.Is(err, syscall.ENOENT):
			why = "there is no socket"
		case errors.Is(err, syscall.ECONNREFUSED):
			why = "nothing listens on the socket"
		}
		if why != "" {
			e := fail(codeTryAgainLater, fmt.Sprintf("the margay agent is not running on this node: %s at %s (is the margay agent pod running?)", why, c.socket))
			e.Details = err.Error()
			return nil, e
		}
		if isTimeout(err) {
			return nil, timeoutError(c, command)
		}
		return nil, fail(codeIOFailure, fmt.Sprintf("talking to the margay agent at %s failed: %s", c.socket, err.Error()))
	}
	defer conn.Close()
	t.Connected = sinceStart()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write(req); err != nil {
		if isTimeout(err) {
			return nil, timeoutError(c, command)
		}
		if isClosed(err) {
			return nil, closedWithoutAnswer(c, command, err.Error())
		}
		return nil, fail(codeIOFailure, fmt.Sprintf("talking to the margay agent at %s failed: %s", c.socket, err.Error()))
	}
	reply, err := io.ReadAll(io.LimitReader(conn, maxReply))
	t.Answered = sinceStart()
	if err != nil {
		if isTimeout(err) {
			return nil, timeoutError(c, command)
		}
		if isClosed(err) {
			return nil, closedWithoutAnswer(c, command, err.Error())
		}
		return nil, fail(codeIOFailure, fmt.Sprintf("talking to the margay agent at %s failed: %s", c.socket, err.Error()))
	}
	if len(reply) == 0 {
		return nil, closedWithoutAnswer(c, command, "")
	}
	return reply, nil
}

// isClosed: the agent reset the connection (it stopped with our request unread).
func isClosed(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// closedWithoutAnswer: wire.ts closedWithoutAnswer — the agent closed the
// connection with no answer (a restart with the request in flight): try again (11).
func closedWithoutAnswer(c clientConf, command string, details string) *cniError {
	e := fail(codeTryAgainLater, fmt.Sprintf("the margay agent at %s closed the connection without answering %s (is it restarting?)", c.socket, command))
	e.Details = details
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func timeoutError(c clientConf, command string) *cniError {
	return fail(codeTryAgainLater, fmt.Sprintf("the margay agent at %s did not answer %s within %s s", c.socket, command, secondsText(c.timeout)))
}

// decodeReply: wire.ts decodeRawResponse.
func decodeReply(text []byte) (rawReply, *cniError) {
	var r rawReply
	var probe interface{}
	if json.Unmarshal(text, &probe) != nil {
		return r, fail(codeAgentProtocol, "the margay agent sent a reply that is not JSON")
	}
	if _, ok := probe.(map[string]interface{}); !ok {
		return r, fail(codeAgentProtocol, "the margay agent sent a reply that is not a JSON object")
	}
	if json.Unmarshal(text, &r) != nil {
		return rawReply{}, fail(codeAgentProtocol, `the margay agent sent a reply without "exit" and "stdout"`)
	}
	if r.Ok != nil && !*r.Ok && r.Error != nil && r.Error.Code != nil && r.Error.Msg != nil {
		return r, nil // an agent that predates the raw form, answering in the structured form
	}
	if r.Exit == nil || (*r.Exit != 0 && *r.Exit != 1) || r.Stdout == nil {
		return r, fail(codeAgentProtocol, `the margay agent sent a reply without "exit" and "stdout"`)
	}
	return r, nil
}

// writeJSON prints v as one line, without Go's HTML escaping (as JSON.stringify does).
func writeJSON(w io.Writer, v interface{}) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func printError(e *cniError, cniVersion string) int {
	e.CniVersion = cniVersion
	writeJSON(os.Stdout, e)
	return 1
}

func run() int {
	t := timing{Client: "go", Loaded: sinceStart()}
	stdin, err := io.ReadAll(os.Stdin)
	if err != nil {
		return printError(fail(codeIOFailure, "reading the network config from stdin failed: "+err.Error()), "1.0.0")
	}
	command := os.Getenv("CNI_COMMAND")
	if command == "VERSION" {
		writeJSON(os.Stdout, versionResult(stdin))
		return 0
	}
	conf, cerr := readConf(stdin)
	if cerr != nil {
		return printError(cerr, conf.cniVersion)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CNI_") {
			if i := strings.IndexByte(kv, '='); i > 0 {
				env[kv[:i]] = kv[i+1:]
			}
		}
	}
	req, err := json.Marshal(rawRequest{V: rawWireVersion, Env: env, Stdin: string(stdin)})
	if err != nil {
		return printError(fail(codeAgentInternal, "margay-cni: "+err.Error()), conf.cniVersion)
	}
	text, cerr := callAgent(conf, append(req, '\n'), command, &t)
	if cerr != nil {
		return printError(cerr, conf.cniVersion)
	}
	reply, cerr := decodeReply([]byte(strings.TrimSpace(string(text))))
	if cerr != nil {
		return printError(cerr, conf.cniVersion)
	}
	if reply.Exit == nil {
		e := &cniError{Code: *reply.Error.Code, Msg: *reply.Error.Msg, Details: reply.Error.Details}
		return printError(e, conf.cniVersion)
	}
	if os.Getenv("MARGAY_CNI_TIMING") != "" {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			t.CPU = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
		}
		t.AgentMs = reply.AgentMs
		t.AgentStages = reply.Stages
		t.Done = sinceStart()
		writeJSON(os.Stderr, t)
	}
	os.Stdout.WriteString(*reply.Stdout)
	return *reply.Exit
}

func main() {
	os.Exit(run())
}
