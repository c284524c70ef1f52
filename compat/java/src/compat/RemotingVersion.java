package compat;

import java.lang.reflect.Field;

/**
 * Lets a driver announce another protocol version than its client library's:
 * {@code -Dcompat.remoting.version=400} makes every later request carry version 400
 * (V4_9_3), so that the NameServer answers routes in fastjson's legacy dialect.
 *
 * <p>{@code -Drocketmq.remoting.version} alone does not work: MQClientAPIImpl's static
 * initializer overwrites that property with the library's own version. So, once the client
 * has started, this sets the property again and RemotingCommand's cached copy
 * ({@code configVersion}, present in 4.9.x and 5.x) with it.
 */
final class RemotingVersion {
    private RemotingVersion() {
    }

    static void apply() throws Exception {
        String v = System.getProperty("compat.remoting.version");
        if (v == null || v.isEmpty()) {
            return;
        }
        int version = Integer.parseInt(v);
        System.setProperty("rocketmq.remoting.version", v);
        Class<?> rc = Class.forName("org.apache.rocketmq.remoting.protocol.RemotingCommand");
        Field f = rc.getDeclaredField("configVersion");
        f.setAccessible(true);
        f.setInt(null, version);
    }
}
