import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** lifecycle check adapter (PROTOCOL.md v1) for LifecycleStore: one JSON request per line on stdin, one reply per line on stdout. */
public final class Adapter {
    static final ObjectMapper MAPPER = new ObjectMapper();
    // Java's exceptions carry strerror's text, not the errno.
    static final Map<String, String> ERRNO = Map.of(
            "No space left on device", "ENOSPC", "Disk quota exceeded", "EDQUOT",
            "Input/output error", "EIO", "Read-only file system", "EROFS",
            "Permission denied", "EACCES", "Operation not permitted", "EPERM",
            "Not a directory", "ENOTDIR", "Is a directory", "EISDIR",
            "No such file or directory", "ENOENT", "File exists", "EEXIST");

    static String errno(Throwable e) {
        if (e instanceof AccessDeniedException) return "EACCES";
        if (e instanceof NoSuchFileException) return "ENOENT";
        String text = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : String.valueOf(e.getMessage());
        for (Map.Entry<String, String> entry : ERRNO.entrySet()) {
            if (text.contains(entry.getKey())) return entry.getValue();
        }
        return null;
    }

    static ObjectNode handle(JsonNode request) throws Exception {
        ObjectNode reply = MAPPER.createObjectNode();
        String cmd = request.path("cmd").asText();
        Path path = Path.of(request.path("path").asText("."));
        switch (cmd) {
            case "default" -> reply.putObject("result").set("record", LifecycleStore.defaultRecord());
            case "load" -> {
                LifecycleStore.Loaded loaded = LifecycleStore.load(path);
                ObjectNode result = reply.putObject("result");
                result.set("record", loaded.record());
                result.put("outcome", loaded.outcome());
                result.put("reason", loaded.reason());
            }
            case "save" -> {
                LifecycleStore.save(path, request.get("record"));
                reply.putObject("result");
            }
            default -> reply.putObject("skipped").put("message", cmd + " is not supported: store capability only");
        }
        return reply;
    }

    static ObjectNode errorReply(Throwable e) {
        ObjectNode reply = MAPPER.createObjectNode();
        if (e instanceof LifecycleStore.InvalidRecordException invalid) {
            ObjectNode error = reply.putObject("error");
            error.put("class", "invalid_record");
            error.put("field", invalid.field);
            error.put("message", invalid.getMessage());
        } else if (e instanceof java.io.IOException) {
            ObjectNode error = reply.putObject("error");
            error.put("class", "io");
            error.put("errno", errno(e));
            error.put("message", e.toString());
        } else {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            String text = trace.toString();
            ObjectNode errored = reply.putObject("errored");
            errored.put("type", e.getClass().getName());
            errored.put("message", String.valueOf(e.getMessage()));
            errored.put("traceback", text.length() > 4000 ? text.substring(0, 4000) : text);
        }
        return reply;
    }

    static void send(PrintWriter out, JsonNode message) throws Exception {
        out.println(MAPPER.writeValueAsString(message));
        out.flush();
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(System.out, false, StandardCharsets.UTF_8);
        Pattern seqPattern = Pattern.compile("\"seq\":\\s*(\\d+)");
        String line;
        while ((line = in.readLine()) != null) {
            JsonNode request;
            try {
                request = MAPPER.readTree(line);
            } catch (Exception e) {
                Matcher m = seqPattern.matcher(line);
                ObjectNode reply = MAPPER.createObjectNode();
                reply.put("seq", m.find() ? Long.parseLong(m.group(1)) : 0);
                if (line.contains("\"cmd\":\"save\"")) {
                    // PROTOCOL.md: a record Jackson cannot read (too deep, a
                    // number too long) is one the store would refuse.
                    ObjectNode error = reply.putObject("error");
                    error.put("class", "invalid_record");
                    error.putNull("field");
                    error.put("message", "Jackson cannot read the record: " + e.getMessage());
                } else {
                    ObjectNode errored = reply.putObject("errored");
                    errored.put("type", e.getClass().getName());
                    errored.put("message", "unreadable request: " + e.getMessage());
                    errored.put("traceback", "");
                }
                send(out, reply);
                continue;
            }
            String cmd = request.path("cmd").asText();
            if (cmd.equals("start")) {
                ObjectNode reply = MAPPER.createObjectNode();
                reply.put("cmd", "start");
                if (request.path("version").asInt() != 1) {
                    reply.put("error", "this adapter speaks protocol version 1 only");
                    send(out, reply);
                    System.exit(1);
                }
                reply.put("version", 1);
                ObjectNode impl = reply.putObject("implementation");
                impl.put("name", "java-nio-store");
                impl.put("language", "java");
                impl.put("version", System.getProperty("java.version"));
                impl.put("homepage", "https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/nio/file/Files.html");
                reply.putArray("capabilities").add("store");
                reply.putArray("sidecars");
                send(out, reply);
                continue;
            }
            if (cmd.equals("stop")) {
                System.exit(0);
            }
            ObjectNode reply;
            try {
                reply = handle(request);
            } catch (Throwable e) { // an exception is a reply, never the end
                reply = errorReply(e);
            }
            reply.set("seq", request.get("seq"));
            try {
                send(out, reply);
            } catch (Exception e) {
                ObjectNode fallback = errorReply(e);
                fallback.set("seq", request.get("seq"));
                send(out, fallback);
            }
        }
    }
}
