package dev.proxyfilter.cluster.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.remote.AbstractBinaryTransaction;
import io.github.bucket4j.distributed.remote.RemoteBucketState;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Bucket4j command on one token bucket, run by the member that owns the bucket's key, on that key's
 * partition thread: read the state, apply the command, write the state back, answer. Hazelcast runs a
 * partition's processors one at a time, so the bucket needs no lock and a command never retries, however many
 * instances take tokens from it at once.
 *
 * <p>The command and the answer travel in Bucket4j's own binary form ({@link AbstractBinaryTransaction} reads
 * and writes them); the state gets the time to live Bucket4j's expiration strategy asks for, so that a bucket
 * idle until it is full again leaves the map. The backup applies the state the primary wrote ({@link Backup}).
 */
final class BucketProcessor implements EntryProcessor<String, byte[], byte[]> {
    private static final long serialVersionUID = 1L;

    private final byte[] request;
    /** Set by {@link #process}: the state to copy to the backups. */
    private transient Backup backup;

    BucketProcessor(byte[] request) {
        this.request = request;
    }

    @Override
    public byte[] process(Map.Entry<String, byte[]> entry) {
        return new AbstractBinaryTransaction(request) {
            @Override
            public boolean exists() {
                return entry.getValue() != null;
            }

            @Override
            protected byte[] getRawState() {
                return entry.getValue();
            }

            @Override
            protected void setRawState(byte[] state, RemoteBucketState decoded) {
                ExpirationAfterWriteStrategy expiration = getExpirationStrategy();
                long ttlMillis =
                        expiration == null ? -1 : expiration.calculateTimeToLiveMillis(decoded, getCurrentTimeNanos());
                backup = new Backup(state, ttlMillis);
                backup.write(entry);
            }
        }.execute();
    }

    @Override
    public EntryProcessor<String, byte[], byte[]> getBackupProcessor() {
        return backup;
    }

    /** Writes a bucket's new state on a backup replica, as the primary wrote it. */
    static final class Backup implements EntryProcessor<String, byte[], byte[]> {
        private static final long serialVersionUID = 1L;

        private final byte[] state;
        private final long ttlMillis;

        Backup(byte[] state, long ttlMillis) {
            this.state = state;
            this.ttlMillis = ttlMillis;
        }

        @Override
        public byte[] process(Map.Entry<String, byte[]> entry) {
            write(entry);
            return null;
        }

        void write(Map.Entry<String, byte[]> entry) {
            if (ttlMillis > 0) {
                ((ExtendedMapEntry<String, byte[]>) entry).setValue(state, ttlMillis, TimeUnit.MILLISECONDS);
            } else {
                entry.setValue(state);
            }
        }

        @Override
        public EntryProcessor<String, byte[], byte[]> getBackupProcessor() {
            return null; // a backup has no backups
        }
    }

    /** The processor on the wire: Bucket4j's request bytes, nothing of Java serialisation. */
    static final class Serializer implements StreamSerializer<BucketProcessor> {
        /** Hazelcast's id of this serializer; next to the shared cache's entry serializer. */
        static final int TYPE_ID = 0x5046_0002;

        @Override
        public int getTypeId() {
            return TYPE_ID;
        }

        @Override
        public void write(ObjectDataOutput out, BucketProcessor processor) throws IOException {
            out.writeByteArray(processor.request);
        }

        @Override
        public BucketProcessor read(ObjectDataInput in) throws IOException {
            return new BucketProcessor(in.readByteArray());
        }
    }

    /** The backup on the wire. */
    static final class BackupSerializer implements StreamSerializer<Backup> {
        /** Hazelcast's id of this serializer. */
        static final int TYPE_ID = 0x5046_0003;

        @Override
        public int getTypeId() {
            return TYPE_ID;
        }

        @Override
        public void write(ObjectDataOutput out, Backup backup) throws IOException {
            out.writeByteArray(backup.state);
            out.writeLong(backup.ttlMillis);
        }

        @Override
        public Backup read(ObjectDataInput in) throws IOException {
            return new Backup(in.readByteArray(), in.readLong());
        }
    }
}
