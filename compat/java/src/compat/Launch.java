package compat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs another main class (e.g. mqadmin's MQAdminStartup) unchanged, but without two idle
 * waits on the way out that would cost ~5 s per invocation:
 * <ul>
 * <li>the remoting client's NettyEventExecutor thread polls its queue with a 3 s timeout, and
 *     shutdown joins it; while the main thread is inside ServiceThread.shutdown we interrupt
 *     that thread so it sees the stop flag at once (the same exit path, just earlier);</li>
 * <li>Netty's event loops shut down gracefully with a 2 s quiet period in non-daemon threads;
 *     once main() has returned normally we System.exit(0), which is the status the JVM would
 *     have exited with anyway (tools that fail call System.exit themselves).</li>
 * </ul>
 *
 *   java ... compat.Launch <main class> [args...]
 */
public final class Launch {
    public static void main(String[] args) throws Throwable {
        if (args.length < 1) {
            System.err.println("usage: Launch <main class> [args...]");
            System.exit(2);
        }
        Thread main = Thread.currentThread();
        Thread watcher = new Thread(() -> watch(main), "compat-launch-watcher");
        watcher.setDaemon(true);
        watcher.start();

        Method m = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            m.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        System.out.flush();
        System.err.flush();
        System.exit(0);
    }

    private static void watch(Thread main) {
        while (true) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
            if (!inServiceThreadShutdown(main)) {
                continue;
            }
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t != main && t.getName().startsWith("NettyEventExecutor")) {
                    t.interrupt();
                }
            }
        }
    }

    private static boolean inServiceThreadShutdown(Thread main) {
        for (StackTraceElement e : main.getStackTrace()) {
            if (e.getClassName().endsWith(".ServiceThread") && e.getMethodName().equals("shutdown")) {
                return true;
            }
        }
        return false;
    }
}
