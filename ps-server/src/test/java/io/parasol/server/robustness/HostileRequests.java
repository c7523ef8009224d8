package io.parasol.server.robustness;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Generates malformed or hostile requests for a shard that serves one job, each one invalid by
 * construction: a push is built valid for the job's current state (right worker, step, kind,
 * lengths, finite values) and then gets one defect that the protocol says must be refused, so a
 * success is always a bug. All randomness comes from the given generator.
 */
final class HostileRequests {
  /** Big enough to exceed the shard's 16 MiB inbound limit by 1 MiB. */
  static final int OVERSIZE_BYTES = 17 * 1024 * 1024;

  /** Deadline of a pull that waits for a version no push will ever produce. */
  static final long NEVER_READY_DEADLINE_MS = 250;

  /** One request: what kind it is, how to describe it, how to send it. */
  record Probe(String category, Supplier<String> request, Call call) {}

  /** Sends a probe's request and returns how it ended. */
  @FunctionalInterface
  interface Call {
    Wire.Outcome send() throws InterruptedException;
  }

  /**
   * The job as the shard holds it while the requests run (nothing may change it).
   *
   * @param versions each block's version
   * @param contributed sync: contributed[block][worker] when the worker's gradient is in the
   *     block's open step
   */
  record Target(Mode mode, JobSpec spec, String fingerprint, int[] lengths, long[] versions,
      boolean[][] contributed) {
    int workers() {
      return spec.getNumWorkers();
    }

    int blocks() {
      return lengths.length;
    }
  }

  private final SplittableRandom rnd;
  private final Target t;
  private final Wire wire;
  /**
   * Opens a channel of its own for a request that may break its connection (an oversize
   * message, a huge string the shard may echo into its status): other requests in flight on
   * the shared channel must not pay for it.
   */
  private final Supplier<Wire> isolated;
  /** Per block, two full encodings of finite values to cut chunks from. */
  private final ByteString[][] values;
  private final ByteString oversize;
  private final String oversizeString;
  private final List<Category> categories = new ArrayList<>();
  private int totalWeight;

  private record Category(String name, int weight, Supplier<Probe> make) {}

  HostileRequests(SplittableRandom rnd, Target target, Wire wire, Supplier<Wire> isolated) {
    this.rnd = rnd;
    this.t = target;
    this.wire = wire;
    this.isolated = isolated;
    this.values = new ByteString[t.blocks()][2];
    for (int b = 0; b < t.blocks(); b++) {
      for (int v = 0; v < 2; v++) {
        float[] x = new float[t.lengths()[b]];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        if (v == 1) {
          // Finite edge values are valid too.
          float[] edge = {Float.MIN_VALUE, -Float.MIN_VALUE, -0f, Float.MAX_VALUE,
              -Float.MAX_VALUE, Float.MIN_NORMAL};
          for (float e : edge) {
            x[rnd.nextInt(x.length)] = e;
          }
        }
        values[b][v] = FloatCodec.encode(x);
      }
    }
    byte[] big = new byte[OVERSIZE_BYTES];
    rnd.nextBytes(big);
    this.oversize = ByteString.copyFrom(big);
    this.oversizeString = "x".repeat(OVERSIZE_BYTES);
    register();
  }

  /** The next request. */
  Probe next() {
    int r = rnd.nextInt(totalWeight);
    for (Category c : categories) {
      r -= c.weight();
      if (r < 0) {
        return c.make().get();
      }
    }
    throw new AssertionError("weights");
  }

  private void add(String name, int weight, Supplier<Probe> make) {
    categories.add(new Category(name, weight, make));
    totalWeight += weight;
  }

  private boolean sync() {
    return t.mode() == Mode.MODE_SYNC;
  }

  private void register() {
    // Values.
    add("push.values.partialFloat", 30, () -> defect("push.values.partialFloat", this::partial));
    add("push.values.nonFinite", 30, () -> defect("push.values.nonFinite", this::nonFinite));
    add("push.values.randomBytes+badHeader", 30, this::randomBytesBadHeader);
    // Lengths and offsets.
    add("push.length.tooLong", 25, () -> defect("push.length.tooLong", this::tooLong));
    add("push.length.truncated", 25, () -> defect("push.length.truncated", this::truncated));
    add("push.length.streamCut", 20, () -> defect("push.length.streamCut", this::streamCut));
    add("push.length.gap", 25, () -> defect("push.length.gap", this::gap));
    add("push.length.overlap", 25, () -> defect("push.length.overlap", this::overlap));
    add("push.offset.beyondBlock", 25, () -> defect("push.offset.beyondBlock", this::beyond));
    // Blocks.
    add("push.block.unknownInHeader", 25,
        () -> defect("push.block.unknownInHeader", this::unknownInHeader));
    add("push.block.chunkForUnlisted", 20,
        () -> defect("push.block.chunkForUnlisted", this::chunkForUnlisted));
    add("push.block.duplicateInHeader", 20,
        () -> defect("push.block.duplicateInHeader", this::duplicateInHeader));
    add("push.header.manyBlocks", 8, () -> defect("push.header.manyBlocks", this::manyBlocks));
    add("push.header.noBlocks", 10, () -> defect("push.header.noBlocks", this::noBlocks));
    // Header fields.
    add("push.header.wrongFingerprint", 25,
        () -> onHeader("push.header.wrongFingerprint", d -> d.header.setFingerprint(badFp())));
    add("push.header.workerOutOfRange", 25,
        () -> onHeader("push.header.workerOutOfRange", d -> d.header.setWorker(badWorker())));
    add("push.header.wrongKind", 20, () -> defect("push.header.wrongKind", this::wrongKind));
    if (!sync()) {
      add("push.async.readVersionAhead", 20,
          () -> defect("push.async.readVersionAhead", this::readAhead));
      add("push.async.readVersionAtOrAbove2^63", 10,
          () -> defect("push.async.readVersionAtOrAbove2^63", this::readHuge));
    } else {
      add("push.sync.futureStep", 25, () -> defect("push.sync.futureStep", this::futureStep));
      add("push.sync.stepAtOrAbove2^63", 10,
          () -> defect("push.sync.stepAtOrAbove2^63", this::hugeStep));
      add("push.sync.stepOver", 25, this::stepOver);
      add("push.sync.duplicateContribution", 25, this::duplicateContribution);
    }
    // Stream shape.
    add("push.stream.chunkBeforeHeader", 15,
        () -> defect("push.stream.chunkBeforeHeader", this::chunkFirst));
    add("push.stream.twoHeaders", 15, () -> defect("push.stream.twoHeaders", this::twoHeaders));
    add("push.stream.emptyMessage", 15,
        () -> defect("push.stream.emptyMessage", this::emptyMessage));
    add("push.stream.noMessages", 8, this::noMessages);
    add("push.stream.clientCancels", 30, this::clientCancels);
    add("push.oversize.17MiBChunk", 2, this::oversizeChunk);
    add("push.raw.garbageProtobuf", 30, this::garbage);
    // Pull.
    add("pull.tooManyIds", 12, this::pullTooMany);
    add("pull.unknownBlock", 15, this::pullUnknown);
    add("pull.duplicateIds", 10, this::pullDuplicate);
    add("pull.wrongFingerprint", 15, () -> pull("pull.wrongFingerprint",
        PullRequest.newBuilder().setFingerprint(badFp()).setWorker(rnd.nextInt(t.workers()))));
    add("pull.workerOutOfRange", 15, () -> pull("pull.workerOutOfRange",
        PullRequest.newBuilder().setFingerprint(t.fingerprint()).setWorker(badWorker())));
    add("pull.versionNeverReached", 3, () -> pullNeverReady(false));
    add("pull.minVersionAtOrAbove2^63", 3, () -> pullNeverReady(true));
    add("pull.oversize.17MiBFingerprint", 1, () -> pull("pull.oversize.17MiBFingerprint",
        PullRequest.newBuilder().setFingerprint(oversizeString)));
    // Init, heartbeat.
    add("init.differentSpec", 10, () -> init("init.differentSpec",
        InvalidSpecs.different(rnd, t.spec()), 0));
    add("init.invalidSpec", 20, () -> init("init.invalidSpec",
        InvalidSpecs.mutate(rnd, t.spec()), 0));
    add("init.wrongShard", 8, () -> init("init.wrongShard",
        new InvalidSpecs.Mutated(t.spec(), "same spec"), (int) someWrongShard()));
    add("init.oversize.17MiBJobName", 1, () -> init("init.oversize.17MiBJobName",
        new InvalidSpecs.Mutated(t.spec().toBuilder().setJobName(oversizeString).build(),
            "17 MiB job name"), 0));
    add("heartbeat.wrongFingerprint", 8, () -> heartbeat("heartbeat.wrongFingerprint",
        HeartbeatRequest.newBuilder().setFingerprint(badFp()).setWorker(0).build()));
    add("heartbeat.workerOutOfRange", 8, () -> heartbeat("heartbeat.workerOutOfRange",
        HeartbeatRequest.newBuilder().setFingerprint(t.fingerprint()).setWorker(badWorker())
            .build()));
  }

  // ---------------------------------------------------------------------------------------
  // A valid push for the current state, as a header and chunks that defects edit.

  /** A push being built: header, chunks in sending order, then messages. */
  static final class Draft {
    final PushHeader.Builder header;
    final List<BlockChunk> chunks = new ArrayList<>();
    List<PushMessage> messages;

    Draft(PushHeader.Builder header) {
      this.header = header;
    }

    List<Integer> listed() {
      List<Integer> out = new ArrayList<>();
      for (BlockRead r : header.getBlocksList()) {
        out.add(r.getBlockId());
      }
      return out;
    }

    /** Indexes into {@link #chunks} of one block's chunks, in order. */
    List<Integer> chunksOf(int block) {
      List<Integer> out = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        if (chunks.get(i).getBlockId() == block) {
          out.add(i);
        }
      }
      return out;
    }

    void buildMessages() {
      messages = new ArrayList<>();
      messages.add(PushMessage.newBuilder().setHeader(header).build());
      for (BlockChunk c : chunks) {
        messages.add(PushMessage.newBuilder().setChunk(c).build());
      }
    }
  }

  private Draft base() {
    int worker;
    long step;
    List<Integer> blocks = new ArrayList<>();
    if (sync()) {
      // One step for every block of the push: pick a version and blocks at it that the worker
      // has not contributed to yet.
      for (int attempt = 0; ; attempt++) {
        if (attempt > 1000) {
          throw new AssertionError("no valid sync push exists for this state");
        }
        long v = t.versions()[rnd.nextInt(t.blocks())];
        worker = rnd.nextInt(t.workers());
        for (int b = 0; b < t.blocks(); b++) {
          if (t.versions()[b] == v && !t.contributed()[b][worker] && keepBig(b)) {
            blocks.add(b);
          }
        }
        if (!blocks.isEmpty()) {
          step = v;
          break;
        }
      }
      Collections.shuffle(blocks, new java.util.Random(rnd.nextLong()));
      blocks = blocks.subList(0, 1 + rnd.nextInt(blocks.size()));
    } else {
      worker = rnd.nextInt(t.workers());
      step = rnd.nextLong(0, 1_000_000);
      for (int b = 0; b < t.blocks(); b++) {
        if (keepBig(b) && rnd.nextInt(3) != 0) {
          blocks.add(b);
        }
      }
      if (blocks.isEmpty()) {
        blocks.add(smallBlock());
      }
      Collections.shuffle(blocks, new java.util.Random(rnd.nextLong()));
    }
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(t.fingerprint())
        .setWorker(worker).setSequence(rnd.nextInt(4) == 0 ? 0 : rnd.nextLong(1, Long.MAX_VALUE))
        .setStep(step).setKind(PushKind.PUSH_GRADIENT)
        .setLoss(rnd.nextInt(4) == 0 ? Float.NaN : rnd.nextFloat());
    for (int b : blocks) {
      long read = sync() ? t.versions()[b] : rnd.nextLong(0, t.versions()[b] + 1);
      h.addBlocks(BlockRead.newBuilder().setBlockId(b).setVersion(read));
    }
    for (int b = 0; b < t.blocks(); b++) {
      if (!blocks.contains(b) && rnd.nextBoolean()) {
        h.addSeen(BlockRead.newBuilder().setBlockId(b).setVersion(t.versions()[b]));
      }
    }
    Draft d = new Draft(h);
    List<List<BlockChunk>> perBlock = new ArrayList<>();
    for (int b : blocks) {
      perBlock.add(chunksFor(b));
    }
    if (rnd.nextInt(3) == 0) {
      // Interleave blocks; each block's chunks stay in order, which is allowed.
      int[] next = new int[perBlock.size()];
      int left = 0;
      for (List<BlockChunk> l : perBlock) {
        left += l.size();
      }
      while (left > 0) {
        int k = rnd.nextInt(perBlock.size());
        if (next[k] < perBlock.get(k).size()) {
          d.chunks.add(perBlock.get(k).get(next[k]++));
          left--;
        }
      }
    } else {
      for (List<BlockChunk> l : perBlock) {
        d.chunks.addAll(l);
      }
    }
    return d;
  }

  /** The ~70,000-float block goes into a push only now and then, to keep the run fast. */
  private boolean keepBig(int b) {
    return t.lengths()[b] < 10_000 || rnd.nextInt(4) == 0;
  }

  private int smallBlock() {
    for (int attempt = 0; attempt < 100; attempt++) {
      int b = rnd.nextInt(t.blocks());
      if (t.lengths()[b] < 10_000) {
        return b;
      }
    }
    return 0;
  }

  private List<BlockChunk> chunksFor(int b) {
    int len = t.lengths()[b];
    int cs;
    if (len < 10_000) {
      cs = rnd.nextBoolean() ? len : 1 + rnd.nextInt(len);
    } else {
      int[] sizes = {1024, 4096, 16_384, len, FloatCodec.DEFAULT_CHUNK_FLOATS};
      cs = sizes[rnd.nextInt(sizes.length)];
    }
    ByteString all = values[b][rnd.nextInt(2)];
    List<BlockChunk> out = new ArrayList<>();
    for (int off = 0; off < len; off += cs) {
      int n = Math.min(cs, len - off);
      out.add(BlockChunk.newBuilder().setBlockId(b).setOffset(off)
          .setValues(all.substring(off * 4, (off + n) * 4)).build());
    }
    return out;
  }

  /** A defect applied to a draft's header or chunks (before messages are built). */
  @FunctionalInterface
  private interface Defect {
    String apply(Draft d);
  }

  private Probe onHeader(String category, java.util.function.Consumer<Draft> edit) {
    return defect(category, d -> {
      edit.accept(d);
      return "";
    });
  }

  private Probe defect(String category, Defect defect) {
    Draft d = base();
    String note = defect.apply(d);
    if (d.messages == null) {
      d.buildMessages();
    }
    return push(category, d.messages, -1, note);
  }

  private Probe push(String category, List<PushMessage> msgs, int cancelAfter, String note) {
    boolean alone = false;
    for (PushMessage m : msgs) {
      alone |= m.getHeader().getFingerprint().length() > ISOLATE_CHARS
          || m.getChunk().getValues().size() > ISOLATE_BYTES;
    }
    Supplier<String> request = () -> note + (note.isEmpty() ? "" : " ") + describe(msgs)
        + (cancelAfter >= 0 ? " then client cancels after " + cancelAfter + " messages" : "");
    return new Probe(category, request, on(alone, w -> w.push(msgs, cancelAfter,
        Wire.DEADLINE_MS)));
  }

  /** Strings longer than this go on a channel of their own. */
  static final int ISOLATE_CHARS = 1024;

  /** Messages bigger than this go on a channel of their own. */
  static final int ISOLATE_BYTES = 8 * 1024 * 1024;

  /** A call with a wire. */
  @FunctionalInterface
  private interface WireCall {
    Wire.Outcome send(Wire w) throws InterruptedException;
  }

  /** The call on the shared wire, or on a fresh one when {@code alone}. */
  private Call on(boolean alone, WireCall c) {
    if (!alone) {
      return () -> c.send(wire);
    }
    return () -> {
      try (Wire w = isolated.get()) {
        return c.send(w);
      }
    };
  }

  // ---------------------------------------------------------------------------------------
  // Defects

  private int randomChunk(Draft d) {
    return rnd.nextInt(d.chunks.size());
  }

  private static BlockChunk withValues(BlockChunk c, ByteString v) {
    return c.toBuilder().setValues(v).build();
  }

  private ByteString randomBytes(int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return ByteString.copyFrom(b);
  }

  private ByteString finiteFloats(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = rnd.nextFloat();
    }
    return FloatCodec.encode(x);
  }

  private String partial(Draft d) {
    int i = randomChunk(d);
    BlockChunk c = d.chunks.get(i);
    int floats = c.getValues().size() / 4;
    int bytes = 4 * rnd.nextInt(floats + 1) + 1 + rnd.nextInt(3);
    d.chunks.set(i, withValues(c, randomBytes(bytes)));
    return "chunk #" + i + " has " + bytes + " bytes";
  }

  private String nonFinite(Draft d) {
    int i = randomChunk(d);
    BlockChunk c = d.chunks.get(i);
    byte[] b = c.getValues().toByteArray();
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int[] bits = {0x7fc0_0000, 0x7f80_0001, 0xffc0_0000, 0x7fff_ffff, 0x7f80_0000, 0xff80_0000,
        0x7f80_0000 | (1 + rnd.nextInt(0x7f_ffff)), 0xff80_0000 | (1 + rnd.nextInt(0x7f_ffff))};
    int n = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(b.length / 4) : 0);
    StringBuilder what = new StringBuilder("chunk #" + i + " non-finite at");
    for (int k = 0; k < n; k++) {
      int at = rnd.nextInt(b.length / 4);
      int v = bits[rnd.nextInt(bits.length)];
      buf.putInt(at * 4, v);
      if (k < 4) {
        what.append(' ').append(at).append("=0x").append(Integer.toHexString(v));
      }
    }
    d.chunks.set(i, withValues(c, ByteString.copyFrom(b)));
    return what.toString();
  }

  private Probe randomBytesBadHeader() {
    Draft d = base();
    for (int i = 0; i < d.chunks.size(); i++) {
      BlockChunk c = d.chunks.get(i);
      d.chunks.set(i, withValues(c, randomBytes(c.getValues().size())));
    }
    String what;
    switch (rnd.nextInt(4)) {
      case 0 -> {
        d.header.setFingerprint(badFp());
        what = "badFingerprint";
      }
      case 1 -> {
        d.header.setWorker(t.workers() + rnd.nextInt(1000));
        what = "workerOutOfRange";
      }
      case 2 -> {
        what = wrongKind(d);
      }
      default -> {
        what = sync() ? futureStep(d) : readAhead(d);
      }
    }
    d.buildMessages();
    return push("push.values.randomBytes+badHeader", d.messages, -1,
        "random value bytes, header: " + what);
  }

  private String tooLong(Draft d) {
    List<Integer> listed = d.listed();
    int b = listed.get(rnd.nextInt(listed.size()));
    List<Integer> mine = d.chunksOf(b);
    int last = mine.get(mine.size() - 1);
    BlockChunk c = d.chunks.get(last);
    int extra = 1 + rnd.nextInt(rnd.nextBoolean() ? 3 : 5000);
    if (rnd.nextBoolean()) {
      d.chunks.set(last, withValues(c, c.getValues().concat(finiteFloats(extra))));
      return "last chunk of block " + b + " carries " + extra + " floats too many";
    }
    d.chunks.add(last + 1, BlockChunk.newBuilder().setBlockId(b).setOffset(t.lengths()[b])
        .setValues(finiteFloats(extra)).build());
    return "extra chunk of " + extra + " floats after block " + b + " is complete";
  }

  private String truncated(Draft d) {
    List<Integer> listed = d.listed();
    int b = listed.get(rnd.nextInt(listed.size()));
    List<Integer> mine = d.chunksOf(b);
    int last = mine.get(mine.size() - 1);
    BlockChunk c = d.chunks.get(last);
    int floats = c.getValues().size() / 4;
    if (floats > 1 && rnd.nextBoolean()) {
      int keep = 1 + rnd.nextInt(floats - 1);
      d.chunks.set(last, withValues(c, c.getValues().substring(0, keep * 4)));
      return "block " + b + " ends " + (floats - keep) + " floats short";
    }
    int drop = 1 + rnd.nextInt(mine.size());
    for (int k = 0; k < drop; k++) {
      d.chunks.remove((int) mine.get(mine.size() - 1 - k));
    }
    return "last " + drop + " chunk(s) of block " + b + " missing";
  }

  private String streamCut(Draft d) {
    d.buildMessages();
    int keep = 1 + rnd.nextInt(d.messages.size() - 1);
    d.messages = new ArrayList<>(d.messages.subList(0, keep));
    return "stream completed after " + keep + " messages";
  }

  private String gap(Draft d) {
    List<Integer> listed = d.listed();
    int b = listed.get(rnd.nextInt(listed.size()));
    List<Integer> mine = d.chunksOf(b);
    if (mine.size() >= 2) {
      int k = rnd.nextInt(mine.size() - 1);
      d.chunks.remove((int) mine.get(k));
      return "chunk " + k + " of block " + b + " skipped";
    }
    BlockChunk c = d.chunks.get(mine.get(0));
    int len = t.lengths()[b];
    int off = 1 + rnd.nextInt(Math.max(1, len));
    int n = Math.max(1, len - off);
    d.chunks.set(mine.get(0), c.toBuilder().setOffset(off)
        .setValues(c.getValues().substring(0, Math.min(n, len) * 4)).build());
    return "only chunk of block " + b + " starts at " + off;
  }

  private String overlap(Draft d) {
    List<Integer> listed = d.listed();
    int b = listed.get(rnd.nextInt(listed.size()));
    List<Integer> mine = d.chunksOf(b);
    int k = rnd.nextInt(mine.size());
    int at = mine.get(k);
    BlockChunk c = d.chunks.get(at);
    if (k == 0 || rnd.nextBoolean()) {
      d.chunks.add(at + 1, c);
      return "chunk " + k + " of block " + b + " sent twice";
    }
    int back = 1 + rnd.nextInt(c.getOffset());
    d.chunks.set(at, c.toBuilder().setOffset(c.getOffset() - back).build());
    return "chunk " + k + " of block " + b + " starts " + back + " floats early";
  }

  private String beyond(Draft d) {
    int i = randomChunk(d);
    BlockChunk c = d.chunks.get(i);
    int len = t.lengths()[c.getBlockId()];
    long[] offs = {len, len + 1L + rnd.nextInt(1000), 0x7fff_ffffL, 0x8000_0000L,
        0xffff_ffffL, rnd.nextLong(0x8000_0000L, 0x1_0000_0000L), 0x7fff_ffffL - 1};
    long off = offs[rnd.nextInt(offs.length)];
    d.chunks.set(i, c.toBuilder().setOffset((int) off).build());
    return "chunk #" + i + " (block " + c.getBlockId() + ") at offset " + off;
  }

  private long unknownBlockId() {
    long[] ids = {t.blocks(), t.blocks() + 1L, 1000, 65_535, 65_536, 0x7fff_ffffL,
        0x8000_0000L, 0xffff_fffeL, 0xffff_ffffL, rnd.nextLong(t.blocks(), 0x1_0000_0000L)};
    return ids[rnd.nextInt(ids.length)];
  }

  private String unknownInHeader(Draft d) {
    long id = unknownBlockId();
    int at = rnd.nextInt(d.header.getBlocksCount() + 1);
    d.header.addBlocks(at, BlockRead.newBuilder().setBlockId((int) id).setVersion(0));
    if (rnd.nextBoolean()) {
      d.chunks.add(BlockChunk.newBuilder().setBlockId((int) id).setOffset(0)
          .setValues(finiteFloats(1 + rnd.nextInt(8))).build());
    }
    return "header lists unknown block " + id;
  }

  private String chunkForUnlisted(Draft d) {
    List<Integer> listed = d.listed();
    long id = -1;
    for (int b = 0; b < t.blocks() && rnd.nextBoolean(); b++) {
      if (!listed.contains(b)) {
        id = b;
      }
    }
    if (id < 0) {
      id = unknownBlockId();
    }
    int at = rnd.nextInt(d.chunks.size() + 1);
    d.chunks.add(at, BlockChunk.newBuilder().setBlockId((int) id).setOffset(0)
        .setValues(finiteFloats(1 + rnd.nextInt(8))).build());
    return "chunk for block " + id + ", which the header does not list";
  }

  private String duplicateInHeader(Draft d) {
    int k = rnd.nextInt(d.header.getBlocksCount());
    BlockRead r = d.header.getBlocks(k);
    int copies = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(20) : 0);
    for (int i = 0; i < copies; i++) {
      d.header.addBlocks(rnd.nextInt(d.header.getBlocksCount() + 1), r);
    }
    return "block " + r.getBlockId() + " listed " + (copies + 1) + " times";
  }

  private String manyBlocks(Draft d) {
    int[] counts = {t.blocks() + 1, 64, 1000, 10_000, 100_000};
    int n = counts[rnd.nextInt(counts.length)];
    d.header.clearBlocks();
    for (int i = 0; i < n; i++) {
      int id = rnd.nextInt(4) == 0 ? (int) unknownBlockId() : rnd.nextInt(t.blocks());
      d.header.addBlocks(BlockRead.newBuilder().setBlockId(id)
          .setVersion(t.versions()[Math.floorMod(id, t.blocks())]));
    }
    return "header names " + n + " blocks";
  }

  private String noBlocks(Draft d) {
    d.header.clearBlocks();
    return "header names no blocks";
  }

  private String badFp() {
    String fp = t.fingerprint();
    switch (rnd.nextInt(9)) {
      case 0:
        return "";
      case 1: {
        char[] c = fp.toCharArray();
        int i = rnd.nextInt(c.length);
        c[i] = c[i] == '0' ? '1' : '0';
        return new String(c);
      }
      case 2:
        return fp.substring(0, fp.length() - 1);
      case 3:
        return fp + "0";
      case 4:
        return " " + fp;
      case 5:
        return fp.toUpperCase(java.util.Locale.ROOT).equals(fp) ? fp + "\u0000"
            : fp.toUpperCase(java.util.Locale.ROOT);
      case 6:
        return "\u00e9\u4e2d\ud83d\ude00" + fp;
      case 7:
        return "f".repeat(1 + rnd.nextInt(100_000));
      default: {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fp.length(); i++) {
          sb.append("0123456789abcdef".charAt(rnd.nextInt(16)));
        }
        return sb.toString().equals(fp) ? "" : sb.toString();
      }
    }
  }

  private int badWorker() {
    long[] w = {t.workers(), t.workers() + 1L, rnd.nextLong(t.workers(), 0x8000_0000L),
        0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, rnd.nextLong(0x8000_0000L, 0x1_0000_0000L)};
    return (int) w[rnd.nextInt(w.length)];
  }

  private long someWrongShard() {
    long[] s = {1, 2, rnd.nextLong(1, 0x1_0000_0000L), 0xffff_ffffL, 0x8000_0000L};
    return s[rnd.nextInt(s.length)];
  }

  private String wrongKind(Draft d) {
    switch (rnd.nextInt(3)) {
      case 0:
        d.header.setKind(PushKind.PUSH_MODEL);
        return "kind=PUSH_MODEL";
      case 1:
        d.header.setKind(PushKind.PUSH_KIND_UNSPECIFIED);
        return "kind=UNSPECIFIED";
      default: {
        int v = 3 + rnd.nextInt(10_000);
        d.header.setKindValue(v);
        return "kind=" + v + " (unknown)";
      }
    }
  }

  /** Async: claims to have read a version the block has not reached. */
  private String readAhead(Draft d) {
    int k = rnd.nextInt(d.header.getBlocksCount());
    BlockRead r = d.header.getBlocks(k);
    long v = t.versions()[r.getBlockId()];
    long[] claims = {v + 1, v + 1 + rnd.nextInt(1_000_000), Long.MAX_VALUE,
        rnd.nextLong(v + 1, Long.MAX_VALUE)};
    return claim(d, k, claims[rnd.nextInt(claims.length)]);
  }

  /** Async: claims a read version of 2^63 or more (negative as a Java long). */
  private String readHuge(Draft d) {
    int k = rnd.nextInt(d.header.getBlocksCount());
    long[] claims = {Long.MIN_VALUE, -1L, rnd.nextLong(Long.MIN_VALUE, 0)};
    return claim(d, k, claims[rnd.nextInt(claims.length)]);
  }

  private String claim(Draft d, int k, long claim) {
    BlockRead r = d.header.getBlocks(k);
    d.header.setBlocks(k, r.toBuilder().setVersion(claim));
    return "claims version " + Long.toUnsignedString(claim) + " of block " + r.getBlockId()
        + " (at " + t.versions()[r.getBlockId()] + ")";
  }

  /** Sync: a step that has not started for the push's blocks (they share one version). */
  private String futureStep(Draft d) {
    long v = d.header.getStep();
    long[] steps = {v + 1, v + 2 + rnd.nextInt(1000), Long.MAX_VALUE,
        rnd.nextLong(v + 1, Long.MAX_VALUE)};
    long s = steps[rnd.nextInt(steps.length)];
    d.header.setStep(s);
    return "step " + s + " (blocks at " + v + ")";
  }

  /** Sync: a step of 2^63 or more, negative as a Java long. */
  private String hugeStep(Draft d) {
    long s = rnd.nextBoolean() ? (rnd.nextBoolean() ? -1L : Long.MIN_VALUE)
        : rnd.nextLong(Long.MIN_VALUE, 0);
    d.header.setStep(s);
    return "step " + Long.toUnsignedString(s);
  }

  /** Sync: a gradient for a step that is over (a block whose version is past it). */
  private Probe stepOver() {
    int over = -1;
    for (int b = 0; b < t.blocks(); b++) {
      if (t.versions()[b] > 0 && (over < 0 || t.lengths()[b] < t.lengths()[over])) {
        over = b;
      }
    }
    if (over < 0) {
      throw new AssertionError("sync target needs a block with a completed step");
    }
    long step = rnd.nextLong(0, t.versions()[over]);
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(t.fingerprint())
        .setWorker(rnd.nextInt(t.workers())).setSequence(rnd.nextLong(1, Long.MAX_VALUE))
        .setStep(step).setKind(PushKind.PUSH_GRADIENT)
        .addBlocks(BlockRead.newBuilder().setBlockId(over).setVersion(step));
    Draft d = new Draft(h);
    d.chunks.addAll(chunksFor(over));
    d.buildMessages();
    return push("push.sync.stepOver", d.messages, -1,
        "step " + step + " of block " + over + " (at " + t.versions()[over] + ")");
  }

  /** Sync: a second gradient from a worker for a step it already contributed to. */
  private Probe duplicateContribution() {
    for (int b = 0; b < t.blocks(); b++) {
      for (int w = 0; w < t.workers(); w++) {
        if (t.contributed()[b][w]) {
          PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(t.fingerprint())
              .setWorker(w).setSequence(rnd.nextLong(1, Long.MAX_VALUE))
              .setStep(t.versions()[b]).setKind(PushKind.PUSH_GRADIENT)
              .addBlocks(BlockRead.newBuilder().setBlockId(b).setVersion(t.versions()[b]));
          Draft d = new Draft(h);
          d.chunks.addAll(chunksFor(b));
          d.buildMessages();
          return push("push.sync.duplicateContribution", d.messages, -1,
              "worker " + w + " again for step " + t.versions()[b] + " of block " + b);
        }
      }
    }
    throw new AssertionError("sync target needs an open step with a contribution");
  }

  private String chunkFirst(Draft d) {
    d.buildMessages();
    PushMessage first = rnd.nextBoolean() ? d.messages.remove(1)
        : PushMessage.newBuilder().setChunk(d.chunks.get(0)).build();
    d.messages.add(0, first);
    return "a chunk comes before the header";
  }

  private String twoHeaders(Draft d) {
    d.buildMessages();
    PushHeader second = rnd.nextBoolean() ? d.header.build()
        : d.header.clone().setSequence(d.header.getSequence() + 1).build();
    int at = 1 + rnd.nextInt(d.messages.size());
    d.messages.add(at, PushMessage.newBuilder().setHeader(second).build());
    return "second header at message " + at;
  }

  private String emptyMessage(Draft d) {
    d.buildMessages();
    int at = rnd.nextInt(d.messages.size() + 1);
    d.messages.add(at, PushMessage.getDefaultInstance());
    return "message " + at + " has neither header nor chunk";
  }

  private Probe noMessages() {
    return push("push.stream.noMessages", List.of(), -1, "completed without any message");
  }

  private Probe clientCancels() {
    Draft d = base();
    d.buildMessages();
    int after = rnd.nextInt(d.messages.size() + 1);
    return push("push.stream.clientCancels", d.messages, after, "");
  }

  private Probe oversizeChunk() {
    Draft d = base();
    int b = d.listed().get(0);
    d.chunks.add(0, BlockChunk.newBuilder().setBlockId(b).setOffset(0).setValues(oversize)
        .build());
    d.buildMessages();
    return push("push.oversize.17MiBChunk", d.messages, -1, "a 17 MiB chunk");
  }

  // ---------------------------------------------------------------------------------------
  // Bytes that are not a PushMessage

  private Probe garbage() {
    List<byte[]> msgs = new ArrayList<>();
    String what;
    byte[] junk = garbageBytes();
    switch (rnd.nextInt(3)) {
      case 0 -> {
        msgs.add(junk);
        what = "one unparseable message";
      }
      case 1 -> {
        Draft d = base();
        d.buildMessages();
        msgs.add(d.messages.get(0).toByteArray());
        msgs.add(junk);
        what = "a valid header, then an unparseable message";
      }
      default -> {
        msgs.add(junk);
        Draft d = base();
        d.buildMessages();
        for (PushMessage m : d.messages) {
          msgs.add(m.toByteArray());
        }
        what = "an unparseable message, then a valid push";
      }
    }
    String hex = hex(junk);
    return new Probe("push.raw.garbageProtobuf", () -> what + "; garbage bytes " + hex,
        on(false, w -> w.rawPush(msgs, Wire.DEADLINE_MS)));
  }

  /** Bytes that protobuf refuses to parse as a PushMessage (checked here). */
  private byte[] garbageBytes() {
    byte[] b = garbageCandidate();
    try {
      PushMessage.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      return b;
    }
    return new byte[] {0x00, 0x01};
  }

  private byte[] garbageCandidate() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      CodedOutputStream o = CodedOutputStream.newInstance(out);
      switch (rnd.nextInt(7)) {
        case 0 -> o.writeUInt32NoTag(0); // tag 0 is invalid
        case 1 -> o.writeUInt32NoTag(((1 + rnd.nextInt(15)) << 3) | (6 + rnd.nextInt(2)));
        case 2 -> {
          // Field 1 (header) says it is longer than what follows.
          int len = 1 + rnd.nextInt(1000);
          o.writeUInt32NoTag((1 << 3) | 2);
          o.writeUInt32NoTag(len);
          byte[] some = new byte[rnd.nextInt(len)];
          rnd.nextBytes(some);
          o.writeRawBytes(some);
        }
        case 3 -> {
          o.writeUInt32NoTag((2 << 3) | 0);
          for (int i = 0; i < 11; i++) {
            o.writeRawByte((byte) 0xff); // a varint longer than 10 bytes
          }
        }
        case 4 -> {
          // A header whose fingerprint is not UTF-8.
          byte[] fp = {(byte) 0xc3, 0x28, (byte) 0xff, (byte) 0xfe};
          o.writeUInt32NoTag((1 << 3) | 2);
          o.writeUInt32NoTag(fp.length + 2);
          o.writeUInt32NoTag((1 << 3) | 2);
          o.writeUInt32NoTag(fp.length);
          o.writeRawBytes(fp);
        }
        case 5 -> o.writeUInt32NoTag(((1 + rnd.nextInt(15)) << 3) | 4); // stray end-group
        default -> {
          // A chunk that holds a zero tag.
          o.writeUInt32NoTag((2 << 3) | 2);
          o.writeUInt32NoTag(3);
          o.writeRawBytes(new byte[] {0x00, 0x01, 0x02});
        }
      }
      o.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] head = out.toByteArray();
    return head;
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(b.length, 48); i++) {
      sb.append(String.format("%02x", b[i] & 0xff));
    }
    return sb + (b.length > 48 ? "... (" + b.length + " bytes)" : "");
  }

  // ---------------------------------------------------------------------------------------
  // Pull, Init, Heartbeat

  private Probe pull(String category, PullRequest.Builder req) {
    PullRequest r = req.build();
    return new Probe(category, () -> describe(r), on(r.getFingerprint().length() > ISOLATE_CHARS,
        w -> w.pull(r, Wire.DEADLINE_MS)));
  }

  private Probe pullTooMany() {
    int[] counts = {t.blocks() + 1, 100, 100_000};
    int n = counts[rnd.nextInt(counts.length)];
    PullRequest.Builder b = PullRequest.newBuilder().setFingerprint(t.fingerprint())
        .setWorker(rnd.nextInt(t.workers()));
    for (int i = 0; i < n; i++) {
      b.addBlockIds(rnd.nextInt(4) == 0 ? (int) unknownBlockId() : rnd.nextInt(t.blocks()));
    }
    return pull("pull.tooManyIds", b);
  }

  private Probe pullUnknown() {
    PullRequest.Builder b = PullRequest.newBuilder().setFingerprint(t.fingerprint())
        .setWorker(rnd.nextInt(t.workers()));
    List<Integer> ids = new ArrayList<>();
    int valid = rnd.nextInt(t.blocks());
    for (int i = 0; i < valid; i++) {
      ids.add(i);
    }
    ids.add(rnd.nextInt(valid + 1), (int) unknownBlockId());
    b.addAllBlockIds(ids);
    return pull("pull.unknownBlock", b);
  }

  private Probe pullDuplicate() {
    int id = rnd.nextInt(t.blocks());
    PullRequest.Builder b = PullRequest.newBuilder().setFingerprint(t.fingerprint())
        .setWorker(rnd.nextInt(t.workers())).addBlockIds(id).addBlockIds(id);
    return pull("pull.duplicateIds", b);
  }

  /** A pull that waits for a version that never comes; it must end at its deadline. */
  private Probe pullNeverReady(boolean huge) {
    int worker = rnd.nextInt(t.workers());
    int block = rnd.nextInt(t.blocks());
    if (sync()) {
      // Only a worker whose gradient is in a block's open step waits for the step's end.
      find:
      for (int b = 0; b < t.blocks(); b++) {
        for (int w = 0; w < t.workers(); w++) {
          if (t.contributed()[b][w]) {
            block = b;
            worker = w;
            break find;
          }
        }
      }
    }
    long v = t.versions()[block];
    long[] mins = huge ? new long[] {Long.MIN_VALUE, -1L, rnd.nextLong(Long.MIN_VALUE, 0)}
        : new long[] {v + 1, v + 1000, Long.MAX_VALUE};
    long min = mins[rnd.nextInt(mins.length)];
    PullRequest r = PullRequest.newBuilder().setFingerprint(t.fingerprint()).setWorker(worker)
        .addBlockIds(block).setMinVersion(min).build();
    return new Probe(huge ? "pull.minVersionAtOrAbove2^63" : "pull.versionNeverReached",
        () -> describe(r), () -> wire.pull(r, NEVER_READY_DEADLINE_MS));
  }

  private Probe init(String category, InvalidSpecs.Mutated m, int shard) {
    InitRequest r = InitRequest.newBuilder().setSpec(m.spec()).setShard(shard).build();
    return new Probe(category, () -> "Init shard=" + Integer.toUnsignedString(shard) + " spec: "
        + m.what(), on(r.getSerializedSize() > ISOLATE_BYTES, w -> w.init(r)));
  }

  private Probe heartbeat(String category, HeartbeatRequest r) {
    return new Probe(category, () -> "Heartbeat fingerprint=" + shortText(r.getFingerprint())
        + " worker=" + Integer.toUnsignedString(r.getWorker()) + " clock=" + r.getClock(),
        on(r.getFingerprint().length() > ISOLATE_CHARS, w -> w.heartbeat(r)));
  }

  // ---------------------------------------------------------------------------------------
  // Descriptions for reports

  static String shortText(String s) {
    String q = s.length() > 40 ? s.substring(0, 40) + "...(" + s.length() + " chars)" : s;
    return "\"" + q + "\"";
  }

  static String describe(PullRequest r) {
    StringBuilder sb = new StringBuilder("Pull fingerprint=").append(shortText(r.getFingerprint()))
        .append(" worker=").append(Integer.toUnsignedString(r.getWorker()))
        .append(" min_version=").append(Long.toUnsignedString(r.getMinVersion()))
        .append(" block_ids=[");
    for (int i = 0; i < Math.min(8, r.getBlockIdsCount()); i++) {
      sb.append(i == 0 ? "" : ",").append(Integer.toUnsignedString(r.getBlockIds(i)));
    }
    if (r.getBlockIdsCount() > 8) {
      sb.append(",... ").append(r.getBlockIdsCount()).append(" ids");
    }
    return sb.append(']').toString();
  }

  static String describe(List<PushMessage> msgs) {
    StringBuilder sb = new StringBuilder("Push[").append(msgs.size()).append(" msgs:");
    for (int i = 0; i < msgs.size(); i++) {
      if (i == 10) {
        sb.append(" ...");
        break;
      }
      PushMessage m = msgs.get(i);
      sb.append(' ');
      switch (m.getKindCase()) {
        case HEADER -> {
          PushHeader h = m.getHeader();
          sb.append("H{fp=").append(shortText(h.getFingerprint()))
              .append(" worker=").append(Integer.toUnsignedString(h.getWorker()))
              .append(" seq=").append(Long.toUnsignedString(h.getSequence()))
              .append(" step=").append(Long.toUnsignedString(h.getStep()))
              .append(" kind=").append(h.getKindValue())
              .append(" blocks=[");
          for (int k = 0; k < Math.min(8, h.getBlocksCount()); k++) {
            BlockRead r = h.getBlocks(k);
            sb.append(k == 0 ? "" : ",").append(Integer.toUnsignedString(r.getBlockId()))
                .append('@').append(Long.toUnsignedString(r.getVersion()));
          }
          if (h.getBlocksCount() > 8) {
            sb.append(",... ").append(h.getBlocksCount()).append(" blocks");
          }
          sb.append("] seen=").append(h.getSeenCount()).append('}');
        }
        case CHUNK -> {
          BlockChunk c = m.getChunk();
          sb.append("C{block=").append(Integer.toUnsignedString(c.getBlockId()))
              .append(" off=").append(Integer.toUnsignedString(c.getOffset()))
              .append(" bytes=").append(c.getValues().size()).append('}');
        }
        default -> sb.append("EMPTY");
      }
    }
    return sb.append(']').toString();
  }
}
