package io.parasol.common;

import com.google.protobuf.WireFormat;
import java.nio.ByteBuffer;

/**
 * Reads protobuf wire format from a sequence of buffers in place: tags, varints, and
 * length-delimited fields as views ({@link #slices}) or copies ({@link #copy}). Just enough of
 * protobuf for the two messages that carry block values; everything else is skipped by wire
 * type, as protobuf does. Malformed input throws {@link Malformed}.
 */
final class WireReader {
  /** The bytes are not a valid message. */
  static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message);
    }
  }

  private final ByteBuffer[] pieces;
  /** The current piece, and the absolute index of the next byte in it. */
  private int piece;
  private int index;
  private long position;
  private final long size;

  /** Reads {@code pieces} (from each one's position to its limit) without moving them. */
  WireReader(ByteBuffer[] pieces, int size) {
    this.pieces = pieces;
    this.size = size;
    this.index = pieces.length > 0 ? pieces[0].position() : 0;
  }

  /** Bytes consumed so far. */
  long position() {
    return position;
  }

  boolean atEnd() {
    return position >= size;
  }

  /** Moves to the next byte's piece; throws at the end of the bytes. */
  private ByteBuffer current() throws Malformed {
    while (piece < pieces.length && index >= pieces[piece].limit()) {
      piece++;
      if (piece < pieces.length) {
        index = pieces[piece].position();
      }
    }
    if (piece == pieces.length) {
      throw new Malformed("message ends in the middle of a field");
    }
    return pieces[piece];
  }

  int readByte() throws Malformed {
    int b = current().get(index++) & 0xff;
    position++;
    return b;
  }

  long readVarint64() throws Malformed {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = readByte();
      result |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new Malformed("malformed varint");
  }

  /** A varint read as protobuf reads int32/uint32/enum fields: the low 32 bits. */
  int readVarint32() throws Malformed {
    return (int) readVarint64();
  }

  /** The next tag, or 0 at the end; a zero field number is malformed. */
  int readTag() throws Malformed {
    if (atEnd()) {
      return 0;
    }
    int tag = readVarint32();
    if (WireFormat.getTagFieldNumber(tag) == 0) {
      throw new Malformed("invalid tag (field number 0)");
    }
    return tag;
  }

  /** The length of a length-delimited field, checked against what is left before {@code end}. */
  int readLength(long end) throws Malformed {
    long n = readVarint64();
    if (n < 0 || n > end - position) {
      throw new Malformed("field length " + n + " runs past the end of its message");
    }
    return (int) n;
  }

  void skip(long n) throws Malformed {
    while (n > 0) {
      ByteBuffer b = current();
      int k = (int) Math.min(n, b.limit() - index);
      index += k;
      position += k;
      n -= k;
    }
  }

  /** The next {@code n} bytes, in place. */
  ChunkValues slices(int n) throws Malformed {
    if (n == 0) {
      return new ChunkValues(new ByteBuffer[0], 0, 0, 0);
    }
    current();
    ChunkValues v = new ChunkValues(pieces, piece, index, n);
    skip(n);
    return v;
  }

  /** A copy of the next {@code n} bytes. */
  byte[] copy(int n) throws Malformed {
    byte[] out = new byte[n];
    int at = 0;
    while (at < n) {
      ByteBuffer b = current();
      int k = Math.min(n - at, b.limit() - index);
      b.get(index, out, at, k);
      index += k;
      position += k;
      at += k;
    }
    return out;
  }

  /** Skips a field's value by its wire type (groups are refused, as proto3 has none). */
  void skipField(int tag, long end) throws Malformed {
    switch (WireFormat.getTagWireType(tag)) {
      case WireFormat.WIRETYPE_VARINT -> readVarint64();
      case WireFormat.WIRETYPE_FIXED64 -> skipChecked(8, end);
      case WireFormat.WIRETYPE_FIXED32 -> skipChecked(4, end);
      case WireFormat.WIRETYPE_LENGTH_DELIMITED -> skip(readLength(end));
      default -> throw new Malformed("unsupported wire type " + WireFormat.getTagWireType(tag)
          + " for field " + WireFormat.getTagFieldNumber(tag));
    }
  }

  private void skipChecked(int n, long end) throws Malformed {
    if (n > end - position) {
      throw new Malformed("field runs past the end of its message");
    }
    skip(n);
  }

  /** A tag: field number and wire type, as protobuf encodes them. */
  static int tag(int fieldNumber, int wireType) {
    return (fieldNumber << 3) | wireType;
  }

  /** Checks that a field of {@code wireType} has that wire type. */
  static void expect(int tag, int wireType) throws Malformed {
    if (WireFormat.getTagWireType(tag) != wireType) {
      throw new Malformed("field " + WireFormat.getTagFieldNumber(tag) + " has wire type "
          + WireFormat.getTagWireType(tag) + ", expected " + wireType);
    }
  }
}
