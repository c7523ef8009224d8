package io.parasol.server;

import io.parasol.proto.v1.JobSpec;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard's checkpoints on disk: the job spec, and for every block it owns the values, the
 * version and the optimizer state, plus the workers' ssp clocks.
 *
 * <p>Writes are atomic: the checkpoint goes to a temporary file, is forced to disk, and is
 * renamed over the newest one after that one was renamed to the previous generation; the
 * directory is forced too. Each file ends with a CRC-32 of its contents. Loading takes the
 * newest file whose checksum holds and falls back to the previous generation, so a torn or
 * corrupted file is ignored, never half-read.
 *
 * <p>File layout (big-endian): magic "PRSLCKPT", format version, spec length and bytes,
 * worker clock count and clocks, block count, then per block: id, version, length, values
 * (little-endian float32), optimizer steps, state array count and arrays; then the CRC-32 of
 * all preceding bytes.
 */
public final class Checkpoints {
  private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
  private static final byte[] MAGIC =
      "PRSLCKPT".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final int FORMAT = 1;

  /** One block's saved state. */
  public record BlockState(int id, long version, float[] values, long optimizerSteps,
      float[][] optimizerState) {}

  /** A whole checkpoint. */
  public record Snapshot(JobSpec spec, long[] clocks, List<BlockState> blocks) {}

  private final Path dir;
  private final int shard;

  public Checkpoints(Path dir, int shard) {
    this.dir = dir;
    this.shard = shard;
  }

  /** The newest checkpoint file. */
  public Path newest() {
    return dir.resolve("shard-" + shard + ".ckpt");
  }

  /** The previous generation. */
  public Path previous() {
    return dir.resolve("shard-" + shard + ".ckpt.1");
  }

  /** Writes {@code s} atomically as the newest checkpoint; returns its size in bytes. */
  public long write(Snapshot s) throws IOException {
    Files.createDirectories(dir);
    byte[] body = encode(s);
    CRC32 crc = new CRC32();
    crc.update(body);
    Path tmp = dir.resolve("shard-" + shard + ".ckpt.tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer tail = ByteBuffer.allocate(8).putLong(crc.getValue()).flip();
      ch.write(new ByteBuffer[] {ByteBuffer.wrap(body), tail});
      ch.force(true);
    }
    if (Files.exists(newest())) {
      move(newest(), previous());
    }
    move(tmp, newest());
    forceDirectory();
    return body.length + 8L;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private void forceDirectory() {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Some file systems cannot open a directory; the rename is still atomic there.
    }
  }

  /** The newest valid checkpoint, or null when there is none. */
  public Snapshot load() {
    for (Path p : List.of(newest(), previous())) {
      if (!Files.exists(p)) {
        continue;
      }
      try {
        return read(p);
      } catch (IOException | RuntimeException e) {
        log.warn("shard {}: ignoring checkpoint {}: {}", shard, p, e.getMessage());
      }
    }
    return null;
  }

  /** Reads and verifies one checkpoint file. */
  static Snapshot read(Path p) throws IOException {
    byte[] all = Files.readAllBytes(p);
    if (all.length < MAGIC.length + 12) {
      throw new IOException("file of " + all.length + " bytes is too short");
    }
    int bodyLen = all.length - 8;
    CRC32 crc = new CRC32();
    crc.update(all, 0, bodyLen);
    long stored = ByteBuffer.wrap(all, bodyLen, 8).getLong();
    if (stored != crc.getValue()) {
      throw new IOException("checksum mismatch (torn or corrupted write)");
    }
    return decode(new java.io.ByteArrayInputStream(all, 0, bodyLen));
  }

  static byte[] encode(Snapshot s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(bytes))) {
      out.write(MAGIC);
      out.writeInt(FORMAT);
      byte[] spec = s.spec().toByteArray();
      out.writeInt(spec.length);
      out.write(spec);
      out.writeInt(s.clocks().length);
      for (long c : s.clocks()) {
        out.writeLong(c);
      }
      out.writeInt(s.blocks().size());
      for (BlockState b : s.blocks()) {
        out.writeInt(b.id());
        out.writeLong(b.version());
        writeFloats(out, b.values());
        out.writeLong(b.optimizerSteps());
        out.writeInt(b.optimizerState().length);
        for (float[] a : b.optimizerState()) {
          writeFloats(out, a);
        }
      }
    }
    return bytes.toByteArray();
  }

  static Snapshot decode(InputStream in) throws IOException {
    try (DataInputStream d = new DataInputStream(new BufferedInputStream(in))) {
      byte[] magic = new byte[MAGIC.length];
      d.readFully(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new IOException("not a Parasol checkpoint");
      }
      int format = d.readInt();
      if (format != FORMAT) {
        throw new IOException("checkpoint format " + format + " is not " + FORMAT);
      }
      byte[] spec = new byte[checkedLength(d.readInt(), 1 << 30)];
      d.readFully(spec);
      long[] clocks = new long[checkedLength(d.readInt(), 1 << 20)];
      for (int i = 0; i < clocks.length; i++) {
        clocks[i] = d.readLong();
      }
      int n = checkedLength(d.readInt(), 1 << 20);
      List<BlockState> blocks = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        int id = d.readInt();
        long version = d.readLong();
        float[] values = readFloats(d);
        long steps = d.readLong();
        float[][] state = new float[checkedLength(d.readInt(), 16)][];
        for (int k = 0; k < state.length; k++) {
          state[k] = readFloats(d);
        }
        blocks.add(new BlockState(id, version, values, steps, state));
      }
      if (d.read() != -1) {
        throw new IOException("trailing bytes after the last block");
      }
      return new Snapshot(JobSpec.parseFrom(spec), clocks, blocks);
    } catch (EOFException e) {
      throw new IOException("checkpoint ends early", e);
    }
  }

  private static int checkedLength(int n, int max) throws IOException {
    if (n < 0 || n > max) {
      throw new IOException("implausible length " + n);
    }
    return n;
  }

  private static void writeFloats(OutputStream out, float[] v) throws IOException {
    DataOutputStream d = (DataOutputStream) out;
    d.writeInt(v.length);
    ByteBuffer buf = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(v);
    d.write(buf.array());
  }

  private static float[] readFloats(DataInputStream d) throws IOException {
    int n = checkedLength(d.readInt(), 1 << 28);
    byte[] raw = new byte[n * Float.BYTES];
    d.readFully(raw);
    float[] v = new float[n];
    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }
}
