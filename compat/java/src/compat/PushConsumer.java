package compat;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Receives messages until N distinct bodies with the given prefix arrived, or the timeout.
 *
 *   PushConsumer <namesrvAddr> <topic> <group> <count> [timeoutSec] [bodyPrefix]
 *
 * Prints "RECEIVED n" and exits 0 only if n >= count. Consumes from the first offset.
 * With -Dcompat.accessKey=AK -Dcompat.secretKey=SK every request is signed (Credentials).
 * Uses only API common to rocketmq-client 4.9.x and 5.x.
 */
public final class PushConsumer {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: PushConsumer <namesrvAddr> <topic> <group> <count> [timeoutSec] [bodyPrefix]");
            System.exit(2);
        }
        String namesrv = args[0];
        String topic = args[1];
        String group = args[2];
        int count = Integer.parseInt(args[3]);
        int timeoutSec = args.length > 4 ? Integer.parseInt(args[4]) : 60;
        String prefix = (args.length > 5 ? args[5] : "compat") + "-";

        Set<String> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch done = new CountDownLatch(1);
        // -Dcompat.accessKey/-Dcompat.secretKey: sign with AclClientRPCHook (see Credentials)
        var hook = Credentials.hook();
        DefaultMQPushConsumer consumer = hook == null ? new DefaultMQPushConsumer(group)
            : new DefaultMQPushConsumer(group, hook, new AllocateMessageQueueAveragely());
        int rc = 1;
        try {
            consumer.setNamesrvAddr(namesrv);
            consumer.setInstanceName("compat-" + ProcessHandle.current().pid());
            consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
            consumer.subscribe(topic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    String body = new String(m.getBody(), StandardCharsets.UTF_8);
                    if (body.startsWith(prefix)) {
                        seen.add(body);
                    }
                }
                if (seen.size() >= count) {
                    done.countDown();
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            done.await(timeoutSec, TimeUnit.SECONDS);
            rc = seen.size() >= count ? 0 : 1;
        } catch (Exception e) {
            System.err.println("consumer failed: " + e);
            e.printStackTrace();
        } finally {
            System.out.println("RECEIVED " + seen.size());
            System.out.flush();
            try {
                consumer.shutdown();
            } catch (Exception ignored) {
                // exiting anyway
            }
        }
        System.exit(rc);
    }
}
