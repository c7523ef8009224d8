package io.parasol.server.checkpoint;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.parasol.proto.v1.Checkpoint;
import io.parasol.proto.v1.CheckpointBlock;
import io.parasol.proto.v1.CheckpointFile;
import io.parasol.proto.v1.JobSpec;
import java.io.IOException;
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
 * <p>Layout: a {@code parasol.v1.CheckpointFile} message (see {@code checkpoint.proto}) whose
 * payload is a serialised {@code Checkpoint} and whose {@code crc32} is the CRC-32 of exactly
 * the payload bytes. Files of the earlier hand-written layout are not read.
 *
 * <p>Writes are atomic: the checkpoint goes to a temporary file, is forced to disk, and is
 * renamed over the newest one after that one was renamed to the previous generation; the
 * directory is forced too. Loading takes the newest file whose magic, format and checksum hold
 * and falls back to the previous generation, so a torn or corrupted file is refused with the
 * reason logged, never half-read. Thread safety: one writer at a time (the server serialises
 * checkpoints); loading may run concurrently with nothing else writing.
 */
public final class Checkpoints {
  private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
  static final String MAGIC = "PRSLCKPT";
  static final int FORMAT = 2;

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

  /** The directory the files are in. */
  public Path dir() {
    return dir;
  }

  /** The shard whose checkpoints these are. */
  public int shard() {
    return shard;
  }

  /** Removes every generation (a job that ended); missing files are fine. */
  public void delete() throws IOException {
    Files.deleteIfExists(newest());
    Files.deleteIfExists(previous());
    Files.deleteIfExists(dir.resolve("shard-" + shard + ".ckpt.tmp"));
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
    byte[] file = encode(s);
    Path tmp = dir.resolve("shard-" + shard + ".ckpt.tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(file);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    if (Files.exists(newest())) {
      move(newest(), previous());
    }
    move(tmp, newest());
    forceDirectory();
    return file.length;
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

  /** Reads and verifies one checkpoint file; IOException says why it is refused. */
  public static Snapshot read(Path p) throws IOException {
    return decode(Files.readAllBytes(p));
  }

  static byte[] encode(Snapshot s) {
    Checkpoint.Builder c = Checkpoint.newBuilder().setSpec(s.spec());
    for (long clock : s.clocks()) {
      c.addClocks(clock);
    }
    for (BlockState b : s.blocks()) {
      CheckpointBlock.Builder cb = CheckpointBlock.newBuilder()
          .setId(b.id())
          .setVersion(b.version())
          .setValues(floats(b.values()))
          .setOptimizerSteps(b.optimizerSteps());
      for (float[] a : b.optimizerState()) {
        cb.addOptimizerState(floats(a));
      }
      c.addBlocks(cb);
    }
    ByteString payload = c.build().toByteString();
    CRC32 crc = new CRC32();
    crc.update(payload.asReadOnlyByteBuffer());
    return CheckpointFile.newBuilder().setMagic(MAGIC).setFormat(FORMAT).setPayload(payload)
        .setCrc32((int) crc.getValue()).build().toByteArray();
  }

  static Snapshot decode(byte[] bytes) throws IOException {
    CheckpointFile f;
    try {
      f = CheckpointFile.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("not a readable checkpoint (torn or corrupted write): "
          + e.getMessage(), e);
    }
    if (!MAGIC.equals(f.getMagic())) {
      throw new IOException("not a Parasol checkpoint (or written in an older format)");
    }
    if (f.getFormat() != FORMAT) {
      throw new IOException("checkpoint format " + f.getFormat() + " is not " + FORMAT);
    }
    CRC32 crc = new CRC32();
    crc.update(f.getPayload().asReadOnlyByteBuffer());
    if ((int) crc.getValue() != f.getCrc32()) {
      throw new IOException("checksum mismatch (torn or corrupted write)");
    }
    Checkpoint c = Checkpoint.parseFrom(f.getPayload());
    long[] clocks = new long[c.getClocksCount()];
    for (int i = 0; i < clocks.length; i++) {
      clocks[i] = c.getClocks(i);
    }
    List<BlockState> blocks = new ArrayList<>(c.getBlocksCount());
    for (CheckpointBlock b : c.getBlocksList()) {
      float[][] state = new float[b.getOptimizerStateCount()][];
      for (int k = 0; k < state.length; k++) {
        state[k] = floats(b.getOptimizerState(k));
      }
      blocks.add(new BlockState(b.getId(), b.getVersion(), floats(b.getValues()),
          b.getOptimizerSteps(), state));
    }
    return new Snapshot(c.getSpec(), clocks, blocks);
  }

  private static ByteString floats(float[] v) {
    ByteBuffer buf = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(v);
    return ByteString.copyFrom(buf.array());
  }

  private static float[] floats(ByteString b) throws IOException {
    if (b.size() % Float.BYTES != 0) {
      throw new IOException("float array of " + b.size() + " bytes");
    }
    float[] v = new float[b.size() / Float.BYTES];
    b.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }
}
