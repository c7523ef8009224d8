package io.parasol.server.rpc;

import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.ShardGrpc;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests that do not parse get INVALID_ARGUMENT naming the message type, instead of the
 * UNKNOWN "Application error processing RPC" grpc-java answers when a request marshaller
 * throws. Each method's request parser is made lenient: a message that does not parse becomes
 * a marker message (the type's default instance with an unknown field no Parasol message
 * uses). Push messages reach the service, which refuses the push as malformed; for every other
 * method the call is closed with INVALID_ARGUMENT before its handler sees a request. The wire
 * format and valid calls are unchanged. Applies to any service whose request marshallers are
 * protobuf's (the shard's, gRPC health, reflection).
 */
public final class LenientParsing {
  /** An unknown field number no Parasol message uses: its presence marks an unparseable one. */
  static final int MARKER_FIELD = 536_870_000;

  private static final UnknownFieldSet MARKER = UnknownFieldSet.newBuilder()
      .addField(MARKER_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
      .build();

  private LenientParsing() {}

  /** Whether {@code m} stands for a request that did not parse. */
  static boolean isUnparseable(Message m) {
    return m.getUnknownFields().hasField(MARKER_FIELD);
  }

  /** {@code def} with every request parser made lenient (see the class comment). */
  public static ServerServiceDefinition wrap(ServerServiceDefinition def) {
    ServiceDescriptor sd = def.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(sd.getName())
        .setSchemaDescriptor(sd.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
      ServerMethodDefinition<?, ?> out = lenient(m);
      methods.add(out);
      descriptor.addMethod(out.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    for (ServerMethodDefinition<?, ?> m : methods) {
      b.addMethod(m);
    }
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> lenient(ServerMethodDefinition<Q, R> m) {
    MethodDescriptor<Q, R> md = m.getMethodDescriptor();
    MethodDescriptor.Marshaller<Q> inner = md.getRequestMarshaller();
    Q marker = markerFor(md);
    if (marker == null) {
      return m;
    }
    MethodDescriptor.Marshaller<Q> tolerant = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(Q value) {
        return inner.stream(value);
      }

      @Override
      public Q parse(InputStream stream) {
        try {
          return inner.parse(stream);
        } catch (RuntimeException e) {
          return marker;
        }
      }
    };
    boolean push = isPushStream(md);
    ServerCallHandler<Q, R> handler = push ? m.getServerCallHandler()
        : refusing(m.getServerCallHandler(), md.getFullMethodName(),
            ((Message) marker).getDescriptorForType().getFullName());
    return ServerMethodDefinition.create(
        md.toBuilder(tolerant, md.getResponseMarshaller()).build(), handler);
  }

  /** Push and PushPull: streams of PushMessages that the service itself refuses when bad. */
  private static boolean isPushStream(MethodDescriptor<?, ?> md) {
    String name = md.getFullMethodName();
    return name.equals(ShardGrpc.getPushMethod().getFullMethodName())
        || name.equals(ShardGrpc.getPushPullMethod().getFullMethodName());
  }

  /** The marker message of the method's request type; null where it is not protobuf's. */
  @SuppressWarnings("unchecked")
  private static <Q> Q markerFor(MethodDescriptor<Q, ?> md) {
    if (isPushStream(md)) {
      return (Q) PushMessage.newBuilder().setUnknownFields(MARKER).build();
    }
    if (md.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> pm
        && pm.getMessagePrototype() instanceof Message proto) {
      return (Q) proto.toBuilder().setUnknownFields(MARKER).build();
    }
    return null;
  }

  /** Closes a call whose request did not parse with INVALID_ARGUMENT; others pass through. */
  private static <Q, R> ServerCallHandler<Q, R> refusing(ServerCallHandler<Q, R> handler,
      String method, String type) {
    return (call, headers) -> new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        handler.startCall(call, headers)) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        if (message instanceof Message msg && isUnparseable(msg)) {
          refused = true;
          call.close(Status.INVALID_ARGUMENT.withDescription(method + ": the request does not"
              + " parse as " + type), new Metadata());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onReady() {
        if (!refused) {
          super.onReady();
        }
      }
    };
  }
}
