"""Project settings. There is no need to edit this file unless you want to change values
from the Kedro defaults. For further information, including these default values, see
https://docs.kedro.org/en/stable/configure/configuration_basics/#configuration

kedro-mlops and kedro-mlflow register their hooks themselves (entry points). To switch them
off for this project:
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlops", "kedro_mlflow")
"""

from .hooks import SparkHooks

# the local Spark session's settings (conf/<env>/spark.yml) and the Java check
HOOKS = (SparkHooks(),)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
}
