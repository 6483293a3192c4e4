import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * A lifecycle_state.json store (requirements.md §1-§3) on the JDK's NIO
 * files API and Jackson's tree model, written the way Java code usually
 * replaces a file atomically: validate, serialize, Files.createDirectories
 * (rwx------), Files.createTempFile in the same directory (0600 on POSIX),
 * Files.write, Files.move(ATOMIC_MOVE, REPLACE_EXISTING).
 */
public final class LifecycleStore {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final List<String> STATES = List.of("WAKE", "DROWSY", "SLEEP", "HIBERNATION");
    static final int MAX_BYTES = 1 << 20;
    static final long MAX_COUNT = (1L << 53) - 1;

    /** A record that breaks requirements.md §1; field is its dotted path or null. */
    public static final class InvalidRecordException extends IllegalArgumentException {
        public final String field;

        InvalidRecordException(String field, String message) {
            super(field == null ? message : field + ": " + message);
            this.field = field;
        }
    }

    /** What a load found, and the record it returns. */
    public record Loaded(ObjectNode record, String outcome, String reason) {}

    private LifecycleStore() {}

    static boolean isTimestamp(JsonNode node) {
        if (node == null || !node.isTextual()) {
            return false;
        }
        try {
            return OffsetDateTime.parse(node.asText()).getOffset().getTotalSeconds() == 0;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    static boolean isCount(JsonNode node) {
        return node != null && node.isIntegralNumber() && node.canConvertToLong()
                && node.asLong() >= 0 && node.asLong() <= MAX_COUNT;
    }

    public static void validate(JsonNode record) {
        if (record == null || !record.isObject()) {
            throw new InvalidRecordException(null, "the record must be an object");
        }
        JsonNode state = record.get("current_state");
        if (state == null || !state.isTextual() || !STATES.contains(state.asText())) {
            throw new InvalidRecordException("current_state", "must be one of " + String.join(", ", STATES));
        }
        for (String key : List.of("since_ts", "last_activity_ts")) {
            if (!isTimestamp(record.get(key))) {
                throw new InvalidRecordException(key, "must be an RFC 3339 UTC timestamp");
            }
        }
        if (!isCount(record.get("wrapper_event_seq"))) {
            throw new InvalidRecordException("wrapper_event_seq", "must be an integer in 0..2^53-1");
        }
        JsonNode shadow = record.get("shadow_run");
        if (shadow == null || !shadow.isBoolean()) {
            throw new InvalidRecordException("shadow_run", "must be a boolean");
        }
        JsonNode progress = record.get("sleep_cycle_progress");
        if (progress != null && !progress.isNull()) {
            if (!progress.isObject()) {
                throw new InvalidRecordException("sleep_cycle_progress", "must be an object or null");
            }
            for (String key : List.of("last_completed_step", "attempt")) {
                if (progress.has(key) && !isCount(progress.get(key))) {
                    throw new InvalidRecordException("sleep_cycle_progress." + key, "must be an integer in 0..2^53-1");
                }
            }
            JsonNode error = progress.get("last_error");
            if (error != null && !error.isNull() && !error.isTextual()) {
                throw new InvalidRecordException("sleep_cycle_progress.last_error", "must be a string or null");
            }
            if (progress.has("started_at") && !isTimestamp(progress.get("started_at"))) {
                throw new InvalidRecordException("sleep_cycle_progress.started_at", "must be an RFC 3339 UTC timestamp");
            }
        }
        JsonNode quarantine = record.get("quarantine");
        if (quarantine != null && !quarantine.isNull()) {
            if (!quarantine.isObject()) {
                throw new InvalidRecordException("quarantine", "must be an object or null");
            }
            for (String key : List.of("until_ts", "since_ts")) {
                if (!isTimestamp(quarantine.get(key))) {
                    throw new InvalidRecordException("quarantine." + key, "must be an RFC 3339 UTC timestamp");
                }
            }
            JsonNode reason = quarantine.get("reason");
            if (reason == null || !reason.isTextual()) {
                throw new InvalidRecordException("quarantine.reason", "must be a string");
            }
        }
    }

    public static ObjectNode defaultRecord() {
        String now = Instant.now().toString();
        ObjectNode record = MAPPER.createObjectNode();
        record.put("current_state", "WAKE");
        record.put("since_ts", now);
        record.put("last_activity_ts", now);
        record.put("wrapper_event_seq", 0);
        record.putNull("sleep_cycle_progress");
        record.putNull("quarantine");
        record.put("shadow_run", false);
        return record;
    }

    /** Never throws: the stored record when it is valid, else the default. */
    public static Loaded load(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return new Loaded(defaultRecord(), "missing", e.toString());
        } catch (IOException e) {
            return new Loaded(defaultRecord(), "unreadable", e.toString());
        }
        try {
            if (bytes.length > MAX_BYTES) {
                throw new IOException("larger than 1 MiB");
            }
            JsonNode node = MAPPER.readTree(bytes);
            validate(node);
            ObjectNode record = (ObjectNode) node;
            for (String key : List.of("sleep_cycle_progress", "quarantine")) {
                if (!record.has(key)) {
                    record.putNull(key);
                }
            }
            return new Loaded(record, "valid", "");
        } catch (IOException | IllegalArgumentException e) {
            return new Loaded(defaultRecord(), "corrupt", e.toString());
        }
    }

    /** Validates the record and replaces the file at path with it atomically. */
    public static void save(Path path, JsonNode record) throws IOException {
        validate(record);
        byte[] data = MAPPER.writeValueAsBytes(record);
        if (data.length > MAX_BYTES) {
            throw new InvalidRecordException(null, "the record is larger than 1 MiB");
        }
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path tmp = Files.createTempFile(dir, path.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, data);
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }
}
