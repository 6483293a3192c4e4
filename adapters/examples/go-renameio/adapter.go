// Command adapter speaks the lifecycle check protocol (PROTOCOL.md v1) for
// the store package: one JSON request per line on stdin, one reply per line
// on stdout.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"syscall"

	"example.com/lifecycle-renameio/store"
)

type request struct {
	Cmd     string       `json:"cmd"`
	Version int          `json:"version"`
	Seq     int64        `json:"seq"`
	Path    string       `json:"path"`
	Record  store.Record `json:"record"`
}

var out = bufio.NewWriter(os.Stdout)

func send(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		line, _ = json.Marshal(map[string]any{"errored": map[string]string{"type": "MarshalError", "message": err.Error(), "traceback": ""}})
	}
	out.Write(append(line, '\n'))
	out.Flush()
}

func errorReply(err error) map[string]any {
	var inv *store.InvalidRecord
	if errors.As(err, &inv) {
		var field any
		if inv.Field != "" {
			field = inv.Field
		}
		return map[string]any{"error": map[string]any{"class": "invalid_record", "field": field, "message": err.Error()}}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return map[string]any{"error": map[string]any{"class": "io", "errno": errnoName(errno), "message": err.Error()}}
	}
	return map[string]any{"errored": map[string]any{"type": fmt.Sprintf("%T", err), "message": err.Error(), "traceback": ""}}
}

var errnoNames = map[syscall.Errno]string{
	syscall.ENOSPC: "ENOSPC", syscall.EDQUOT: "EDQUOT", syscall.EIO: "EIO", syscall.EACCES: "EACCES",
	syscall.EROFS: "EROFS", syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ENOTDIR: "ENOTDIR",
	syscall.EISDIR: "EISDIR", syscall.EEXIST: "EEXIST", syscall.EINVAL: "EINVAL", syscall.ELOOP: "ELOOP",
	syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.EBADF: "EBADF", syscall.EXDEV: "EXDEV",
}

func errnoName(e syscall.Errno) string {
	if name, ok := errnoNames[e]; ok {
		return name
	}
	return "E" + strconv.Itoa(int(e))
}

func handle(req *request) (reply map[string]any) {
	defer func() {
		if p := recover(); p != nil {
			reply = map[string]any{"errored": map[string]any{"type": "panic", "message": fmt.Sprint(p), "traceback": string(debug.Stack())}}
		}
	}()
	switch req.Cmd {
	case "default":
		return map[string]any{"result": map[string]any{"record": store.Default()}}
	case "load":
		record, outcome, err := store.Load(req.Path)
		result := map[string]any{"record": record, "outcome": outcome}
		if err != nil {
			result["reason"] = err.Error()
		}
		return map[string]any{"result": result}
	case "save":
		if err := store.Save(req.Path, req.Record); err != nil {
			return errorReply(err)
		}
		return map[string]any{"result": map[string]any{}}
	}
	return map[string]any{"skipped": map[string]any{"message": req.Cmd + " is not supported: store capability only"}}
}

var seqPattern = regexp.MustCompile(`"seq":\s*(\d+)`)

func main() {
	in := bufio.NewReader(os.Stdin)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			var seq int64
			if m := seqPattern.FindSubmatch(line); m != nil {
				seq, _ = strconv.ParseInt(string(m[1]), 10, 64)
			}
			if bytes.Contains(line, []byte(`"cmd":"save"`)) {
				// PROTOCOL.md: a record encoding/json cannot read is one
				// the store would refuse.
				send(map[string]any{"seq": seq, "error": map[string]any{"class": "invalid_record", "field": nil, "message": "encoding/json cannot read the record: " + err.Error()}})
			} else {
				send(map[string]any{"seq": seq, "errored": map[string]any{"type": "UnmarshalError", "message": "unreadable request: " + err.Error(), "traceback": ""}})
			}
			continue
		}
		switch req.Cmd {
		case "start":
			if req.Version != 1 {
				send(map[string]any{"cmd": "start", "error": "this adapter speaks protocol version 1 only"})
				os.Exit(1)
			}
			send(map[string]any{
				"cmd": "start", "version": 1,
				"implementation": map[string]any{"name": "renameio-store", "language": "go", "version": "2.0.0", "homepage": "https://github.com/google/renameio"},
				"capabilities":   []string{"store"},
				"sidecars":       []string{},
			})
			continue
		case "stop":
			os.Exit(0)
		}
		reply := handle(&req)
		reply["seq"] = req.Seq
		send(reply)
	}
}
